// Linux primitives Swift cannot reach through Glibc: a spawn that also sets
// the parent-death signal and a new process group before exec, pidfd_open,
// pipe2, the wait-status macros, O_TMPFILE and the kernel's copy fast paths.
#ifndef CSPAWN_H
#define CSPAWN_H

#include <sys/types.h>

/// What to start and how. Descriptors of -1 are inherited unchanged.
typedef struct pf_spawn_request {
    const char *path;          ///< executable path, already resolved
    char *const *argv;         ///< NULL-terminated
    char *const *envp;         ///< NULL-terminated
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    int new_process_group;     ///< non-zero: the child leads a new process group
    int parent_death_signal;   ///< non-zero: delivered to the child if pfutures dies
    const char *directory;     ///< NULL, or the directory the child starts in
} pf_spawn_request;

/// Starts the child and returns its pid, or -errno when it could not be
/// started (the exec's own errno: ENOENT, EACCES, ...; the child is reaped).
pid_t pf_spawn(const pf_spawn_request *request);

/// A pollable descriptor that turns readable when `pid` exits (close-on-exec).
int pf_pidfd_open(pid_t pid);

/// pipe2 with O_CLOEXEC; returns 0 or -errno.
int pf_pipe(int fds[2]);

/// Decodes a waitpid status: 1 and *code when it exited, 2 and *code = signal
/// when a signal ended it, 0 otherwise.
int pf_decode_status(int status, int *code);

/// Moves `length` bytes of `in_fd` from `offset` to `out_fd` (a pipe) with
/// splice, or read/write where splice cannot; the bytes moved, or -errno.
long long pf_copy_range(int in_fd, long long offset, long long length, int out_fd);

/// An anonymous, close-on-exec temporary file in `dir` (O_TMPFILE, or a
/// name unlinked at once): it disappears when closed, even after a crash.
/// Returns the descriptor or -errno.
int pf_tmpfile(const char *dir);

/// Copies up to `length` bytes from `in_fd` to `out_fd` at their current
/// offsets with the kernel's fast paths: copy_file_range, then sendfile,
/// then read/write. Returns bytes copied (0 at end of input) or -errno.
long long pf_copy_chunk(int in_fd, int out_fd, long long length);

#endif
