// One job of `pfutures run --pool process` as the parent sees it: output
// into the job's receiver, its process group into the run's registry.
import Jobs
#if canImport(Glibc)
import Glibc
#endif

/// Follows one job on a worker process: output into the job's receiver,
/// its process group into the run's registry (signals, orphan guard).
/// @unchecked Sendable: `prepare` runs before the job is sent; the rest is
/// called from the worker's reader thread only, in order.
final class RemoteJob: RemoteJobObserver, @unchecked Sendable {
    private let receiver: OutputReceiver?
    private let running: RunningJobs
    private let onStart: (pid_t, UInt32, Invocation) -> Void
    private(set) var slot: UInt32 = 0
    private(set) var invocation: Invocation?
    private(set) var pid: pid_t?

    init(receiver: OutputReceiver?, running: RunningJobs, onStart: @escaping (pid_t, UInt32, Invocation) -> Void) {
        self.receiver = receiver
        self.running = running
        self.onStart = onStart
    }

    func prepare(slot: UInt32, invocation: Invocation) {
        self.slot = slot
        self.invocation = invocation
    }

    func started(pid: pid_t) {
        guard pid > 0 else { return }  // a copy, run inside the worker: no process group
        self.pid = pid
        running.register(pid)
        if let invocation { onStart(pid, slot, invocation) }
    }

    func output(_ bytes: [UInt8], stream: OutputStream) {
        bytes.withUnsafeBytes { receiver?.receive($0, from: stream) }
    }

    func finished(pid: pid_t?) {
        if let pid, pid > 0 { running.unregister(pid) }
    }
}
