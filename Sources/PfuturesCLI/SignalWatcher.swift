// Signals of a run, taken synchronously on one thread with sigtimedwait (no
// async-signal-safety concerns): SIGINT/SIGTERM/SIGHUP stop the run,
// SIGUSR1/SIGUSR2 move the worker cap, and the wait's timeout is the
// run's --deadline.
import FuturesCore
import Jobs
#if canImport(Glibc)
import Glibc
#endif

enum SignalWatcher {
    static let stopping: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    static let capping: [Int32] = [SIGUSR1, SIGUSR2]

    /// Blocks the run's signals in the calling thread and, since threads
    /// inherit the mask, in every thread started after it. Call first.
    static func blockSignals() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)  // a closed stdout is an EPIPE we handle, not a death
        signal(SIGXFSZ, SIG_IGN)  // a file-size limit is an EFBIG we handle (jobs get the default back)
    }

    /// True when SIGINT, SIGTERM and SIGHUP have their default action: not
    /// ignored by the caller's shell (the watcher must then see them: jobs
    /// get them back) nor handled.
    static var stopSignalsAtTheirDefaults: Bool {
        stopping.allSatisfy { signo in
            var action = sigaction()
            return sigaction(signo, nil, &action) == 0 && action.__sigaction_handler.sa_handler == nil
        }
    }

    /// Until the first record nothing has started that a stop signal must
    /// wait for, so no watching thread is needed (an empty run starts
    /// none): the calling thread takes SIGINT, SIGTERM and SIGHUP itself and
    /// exits 128+N at once, as the run would.
    static func exitOnStopSignalsUntilFirstRecord() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signo in _exit(128 + signo) }  // async-signal-safe
        sigemptyset(&action.sa_mask)
        for signo in stopping { sigaction(signo, &action, nil) }
        var set = signalSet(stopping)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Hands the stop signals back to the watcher, with their default
    /// action (after `exitOnStopSignalsUntilFirstRecord`).
    static func leaveStopSignalsToTheWatcher() {
        var set = signalSet(stopping)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        for signo in stopping { signal(signo, SIG_DFL) }
    }

    /// Starts the watching thread for `run`.
    /// - Throws: `ThreadStartError` when no thread can be had.
    static func start(for run: RunControl, deadline: Deadline?) throws(ThreadStartError) {
        try WorkerThread.detach(name: "signals") {
            var set = signalSet()
            var fired = false
            while true {
                var signo: Int32 = -1
                if let deadline, !fired {
                    let left = max(Duration.zero, deadline.remaining)
                    var ts = timespec(tv_sec: Int(left.components.seconds),
                                      tv_nsec: Int(left.components.attoseconds / 1_000_000_000))
                    signo = sigtimedwait(&set, nil, &ts)
                    if signo < 0 {
                        if errno == EAGAIN && deadline.hasPassed { fired = true; run.deadlinePassed() }
                        continue
                    }
                } else {
                    if sigwait(&set, &signo) != 0 { continue }
                }
                switch signo {
                case SIGUSR1: run.adjustCap(by: 1)
                case SIGUSR2: run.adjustCap(by: -1)
                default: run.received(signal: signo)
                }
            }
        }
    }

    /// When stdout is a pipe, notices its reader going away at once (poll
    /// reports POLLERR on the write end), not only at the next write.
    static func watchStdout(for run: RunControl) {
        var info = stat()
        guard fstat(1, &info) == 0, (info.st_mode & S_IFMT) == S_IFIFO else { return }
        // Without a thread for it, a closed stdout is noticed at the next write.
        try? WorkerThread.detach(name: "stdout-watch") {
            var pfd = pollfd(fd: 1, events: 0, revents: 0)
            while poll(&pfd, 1, -1) < 0 && errno == EINTR {}
            if pfd.revents & Int16(POLLERR | POLLHUP) != 0 { run.stdoutClosed() }
        }
    }

    private static func signalSet(_ signals: [Int32] = stopping + capping) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signo in signals { sigaddset(&set, signo) }
        return set
    }
}
