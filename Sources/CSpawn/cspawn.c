// The spawn helper behind every job. It does what posix_spawn does (vfork-style
// clone, process group, signal reset, fd setup, exec, errno back to the
// parent) plus one thing posix_spawn cannot: PR_SET_PDEATHSIG in the child
// before exec, so jobs never outlive a pfutures that was killed with SIGKILL.
#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int place_fd(int fd, int target) {
    if (fd < 0) return 0;
    if (fd == target) {  // dup2 onto itself keeps FD_CLOEXEC: clear it by hand
        int flags = fcntl(fd, F_GETFD);
        return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    return dup2(fd, target) < 0 ? -1 : 0;
}

pid_t pf_spawn(const pf_spawn_request *r) {
    sigset_t all, saved;
    sigfillset(&all);
    // Signals stay blocked while the child shares our memory, so no handler of
    // ours can run in it; the child unblocks only after resetting handlers.
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    volatile int child_errno = 0;
    pid_t parent = getpid();
    pid_t pid = vfork();
    if (pid == 0) {
        for (int s = 1; s < _NSIG; s++) {
            struct sigaction sa;
            if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &sa) != 0) continue;
            // SIGINT and SIGQUIT come ignored when a script starts pfutures with
            // `&`; jobs get them back, or forwarding them would do nothing.
            // (SIGHUP ignored by nohup stays ignored.)
            int reset = s == SIGPIPE || s == SIGXFSZ || s == SIGINT || s == SIGQUIT;
            if (reset || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)) {
                sa.sa_handler = SIG_DFL;
                sa.sa_flags = 0;
                sigemptyset(&sa.sa_mask);
                sigaction(s, &sa, NULL);
            }
        }
        if (r->new_process_group && setpgid(0, 0) != 0) goto fail;
        if (r->parent_death_signal) {
            if (prctl(PR_SET_PDEATHSIG, r->parent_death_signal) != 0) goto fail;
            if (getppid() != parent) _exit(127);  // the parent already died
        }
        if (place_fd(r->stdin_fd, 0) || place_fd(r->stdout_fd, 1) || place_fd(r->stderr_fd, 2)) goto fail;
        if (r->directory && chdir(r->directory) != 0) goto fail;
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(r->path, r->argv, r->envp);
    fail:
        child_errno = errno ? errno : EINVAL;
        _exit(127);
    }
    int spawn_errno = pid < 0 ? errno : child_errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0) return -spawn_errno;
    if (spawn_errno != 0) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        return -spawn_errno;
    }
    return pid;
}

int pf_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);  // pidfds are always close-on-exec
}

int pf_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno; }

int pf_decode_status(int status, int *code) {
    if (WIFEXITED(status)) { *code = WEXITSTATUS(status); return 1; }
    if (WIFSIGNALED(status)) { *code = WTERMSIG(status); return 2; }
    *code = 0;
    return 0;
}

int pf_tmpfile(const char *dir) {
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/pfutures.XXXXXX", dir) >= (int)sizeof path) return -ENAMETOOLONG;
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) return -errno;
    unlink(path);
    return fd;
}

long long pf_copy_chunk(int in_fd, int out_fd, long long length) {
    ssize_t n = copy_file_range(in_fd, NULL, out_fd, NULL, (size_t)length, 0);
    if (n >= 0) return n;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != EBADF) return -errno;
    n = sendfile(out_fd, in_fd, NULL, (size_t)length);
    if (n >= 0) return n;
    if (errno != EINVAL && errno != ENOSYS) return -errno;
    char buffer[65536];
    n = read(in_fd, buffer, length < (long long)sizeof buffer ? (size_t)length : sizeof buffer);
    if (n <= 0) return n < 0 ? -errno : 0;
    for (ssize_t done = 0; done < n;) {
        ssize_t w = write(out_fd, buffer + done, (size_t)(n - done));
        if (w < 0) { if (errno == EINTR) continue; return -errno; }
        done += w;
    }
    return n;
}

long long pf_copy_range(int in_fd, long long offset, long long length, int out_fd) {
    long long moved = 0;
    loff_t at = offset;
    while (moved < length) {
        size_t chunk = (size_t)(length - moved < (1 << 20) ? length - moved : (1 << 20));
        ssize_t n = splice(in_fd, &at, out_fd, NULL, chunk, SPLICE_F_MOVE | SPLICE_F_MORE);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
            // No splice between these two: copy through a buffer instead.
            char buffer[65536];
            ssize_t got = pread(in_fd, buffer, chunk < sizeof buffer ? chunk : sizeof buffer, at);
            if (got <= 0) return got < 0 ? -errno : moved;
            for (ssize_t done = 0; done < got;) {
                ssize_t w = write(out_fd, buffer + done, (size_t)(got - done));
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) return -errno;
                done += w;
            }
            at += got;
            moved += got;
            continue;
        }
        if (n < 0) return -errno;
        if (n == 0) break;  // the file is shorter than the range
        moved += n;
    }
    return moved;
}
