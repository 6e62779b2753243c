// The physical limit for the benchmarks: reads records from stdin and
// posix_spawns one process per record, at most P at a time, reaping each.
// Usage: spawn_limit P exec CMD   (runs CMD RECORD)
//        spawn_limit P shell      (runs /bin/sh -c RECORD)
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: spawn_limit P exec CMD | spawn_limit P shell\n"); return 2; }
    int cap = atoi(argv[1]), running = 0, shell = strcmp(argv[2], "shell") == 0;
    char *line = NULL;
    size_t size = 0;
    ssize_t n;
    while ((n = getline(&line, &size, stdin)) > 0) {
        if (line[n - 1] == '\n') line[n - 1] = 0;
        if (running == cap) { wait(NULL); running--; }
        char *shell_argv[] = {"/bin/sh", "-c", line, NULL};
        char *exec_argv[] = {argv[3], line, NULL};
        pid_t pid;
        char **child = shell ? shell_argv : exec_argv;
        if (posix_spawnp(&pid, child[0], NULL, NULL, child, environ) == 0) running++;
    }
    while (running-- > 0) wait(NULL);
    free(line);
    return 0;
}
