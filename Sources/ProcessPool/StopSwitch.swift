// A run-wide switch that tells every running job to stop (--halt now,
// --deadline, a closed stdout). It is a pipe that is written once and never
// read, so it stays readable and every job's poll loop sees it.
import CSpawn
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Once fired, every job watching it runs its kill sequence.
public final class StopSwitch: Sendable {
    /// Readable once the switch has fired.
    public let fd: Int32
    private let writeFD: Int32
    private let fired = Atomic<Bool>(false)  // so checking costs no system call

    public init() {
        var fds: [Int32] = [-1, -1]
        precondition(pf_pipe(&fds) == 0, "pipe failed: \(errnoText(errno))")
        fd = fds[0]
        writeFD = fds[1]
    }

    deinit { close(fd); close(writeFD) }

    /// Fires the switch; firing again changes nothing.
    public func fire() {
        guard !fired.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var one: UInt8 = 1
        _ = write(writeFD, &one, 1)
    }

    /// True once fired.
    public var isFired: Bool { fired.load(ordering: .acquiring) }
}
