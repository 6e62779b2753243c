// A run-wide switch that tells every running job to stop (--halt now,
// --deadline, a closed stdout). It is a pipe that is written once and never
// read, so it stays readable and every job's poll loop sees it.
import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// Once fired, every job watching it runs its kill sequence.
public final class StopSwitch: Sendable {
    /// Readable once the switch has fired.
    public let fd: Int32
    private let writeFD: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        precondition(pf_pipe(&fds) == 0, "pipe failed: \(errnoText(errno))")
        fd = fds[0]
        writeFD = fds[1]
    }

    deinit { close(fd); close(writeFD) }

    /// Fires the switch; firing again changes nothing.
    public func fire() {
        var one: UInt8 = 1
        _ = write(writeFD, &one, 1)
    }

    /// True once fired.
    public var isFired: Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) > 0
    }
}
