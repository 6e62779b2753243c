// The guard that keeps jobs from outliving a pfutures killed with SIGKILL.
// A job's own process gets a parent-death signal, but its children do not;
// so a small helper (pfutures itself, in a hidden mode and a process group
// of its own) learns each running job's process group over a pipe, and when
// the pipe reaches end of file without a clean goodbye, pfutures has died:
// the helper kills those groups and exits. The guard does not wake for each
// message (two per job, a context switch each): it sleeps until the pipe
// hangs up, and drains it every tenth of a second so that it never fills.
import ProcessPool
import CSpawn
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The parent's side: tells the guard which process groups are running.
package final class OrphanGuard: Sendable {
    /// The hidden argument that turns pfutures into the guard.
    package static let argument = Array("__pfutures-guard".utf8)

    private struct State {
        var writeFD: Int32 = -1
        var failed = false
    }
    private let state = Mutex(State())
    private let executable: [UInt8]

    /// - Parameter executable: the pfutures binary to start as the guard.
    package init(executable: [UInt8]) { self.executable = executable }

    /// A guard that starts this very binary.
    package static func forThisProgram() -> OrphanGuard? { currentExecutable().map(OrphanGuard.init) }

    /// Adds a running job's process group (starting the guard on first use).
    package func register(_ group: pid_t) { send(0x2B, group) }

    /// Removes a job's process group once the job has been reaped.
    package func unregister(_ group: pid_t) { send(0x2D, group) }

    /// Says goodbye, so the guard exits without killing anything. It is not
    /// waited for (that would cost a short run the guard's whole start-up):
    /// once pfutures exits, init reaps it.
    package func finish() {
        let fd = state.withLock { state -> Int32 in
            defer { state.writeFD = -1 }
            return state.writeFD
        }
        guard fd >= 0 else { return }
        var bye: [UInt8] = [0x51, 0, 0, 0, 0]
        _ = write(fd, &bye, 5)
        close(fd)
    }

    private func send(_ op: UInt8, _ group: pid_t) {
        state.withLock { state in
            if state.writeFD < 0 && !state.failed { start(&state) }
            guard state.writeFD >= 0 else { return }
            var message: [UInt8] = [op] + withUnsafeBytes(of: group.littleEndian) { Array($0) }
            _ = write(state.writeFD, &message, 5)  // 5 bytes < PIPE_BUF: atomic
        }
    }

    private func start(_ state: inout State) {
        var fds: [Int32] = [-1, -1]
        guard pf_pipe(&fds) == 0 else { state.failed = true; return }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull); close(fds[0]) }
        let pid = spawnChild(path: executable, argv: [executable, Self.argument], environment: [],
                             stdio: ChildStdio(stdin: fds[0], stdout: devNull), deathSignal: 0)
        guard pid > 0 else { close(fds[1]); state.failed = true; return }
        // Room for 26,000 jobs between two drains (a pipe's size counts
        // against the user's pipe quota, so no bigger than that).
        _ = fcntl(fds[1], fcntlSetPipeSize, Int32(256 << 10))
        state.writeFD = fds[1]
    }

    /// The guard's own loop: collect groups from stdin; at end of input
    /// without a goodbye, SIGKILL every group still listed. Returns the exit status.
    package static func serve() -> Int32 {
        for signo in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { signal(signo, SIG_IGN) }
        _ = fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK)
        var groups = Set<pid_t>()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var pending: [UInt8] = []
        while true {
            // No events asked for: only the hang-up (or the tick) wakes us.
            var watch = pollfd(fd: 0, events: 0, revents: 0)
            _ = poll(&watch, 1, 100)
            while true {
                let n = buffer.withUnsafeMutableBytes { readSome(0, into: $0) }
                if n < 0 && errno == EAGAIN { break }
                if n <= 0 {  // end of input without a goodbye: pfutures died
                    for group in groups { kill(-group, SIGKILL) }
                    return 0
                }
                pending += buffer[..<n]
                var used = 0
                while pending.count - used >= 5 {
                    let group = pid_t(littleEndian: pending[(used + 1)...(used + 4)].withUnsafeBytes { $0.loadUnaligned(as: pid_t.self) })
                    switch pending[used] {
                    case 0x2B: groups.insert(group)
                    case 0x2D: groups.remove(group)
                    default: return 0  // goodbye
                    }
                    used += 5
                }
                pending.removeFirst(used)
            }
        }
    }
}
