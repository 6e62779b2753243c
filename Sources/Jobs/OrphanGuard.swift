// The guard that keeps jobs from outliving a pfutures killed with SIGKILL.
// A job's own process gets a parent-death signal, but its children do not;
// so a small helper (pfutures itself, in a hidden mode and a process group
// of its own) learns each running job's process group over a pipe, and when
// the pipe reaches end of file without a clean goodbye, pfutures has died:
// the helper kills those groups and exits.
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
        state.writeFD = fds[1]
    }

    /// The guard's own loop: collect groups from stdin; at end of input
    /// without a goodbye, SIGKILL every group still listed. Returns the exit status.
    package static func serve() -> Int32 {
        for signo in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { signal(signo, SIG_IGN) }
        var groups = Set<pid_t>()
        var message = [UInt8](repeating: 0, count: 5)
        while true {
            var got = 0
            while got < 5 {
                let n = message.withUnsafeMutableBytes { readSome(0, into: UnsafeMutableRawBufferPointer(rebasing: $0[got...])) }
                if n <= 0 { break }
                got += n
            }
            if got < 5 {
                for group in groups { kill(-group, SIGKILL) }
                return 0
            }
            let group = pid_t(littleEndian: message[1...4].withUnsafeBytes { $0.loadUnaligned(as: pid_t.self) })
            switch message[0] {
            case 0x2B: groups.insert(group)
            case 0x2D: groups.remove(group)
            default: return 0  // goodbye
            }
        }
    }
}
