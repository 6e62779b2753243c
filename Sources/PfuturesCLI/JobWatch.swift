// One attempt of one job as the CLI follows it, whichever pool runs it:
// the task's observer (start: pid into the run's registry, -t, the start
// event; output into the job's receiver) and the job it built for its slot.
import Jobs
import ProcessPool
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Follows one attempt. Called by the pool (start, output) in order, and
/// read by the completion once the attempt's future is done.
final class JobWatch: TaskObserver, Sendable {
    private struct State {
        var job: Job?
        var slot = 0
        var pid: Int32?
        var host: String?
    }
    private let state = Mutex(State())
    /// The slot, readable by a receiver's late tag without the state lock.
    private let startedSlot = SlotCell()
    private let receiver: Receiver
    private let attempt: Int
    private let countsStart: Bool
    private let runner: JobRunner

    /// Where a job's output goes for the output mode.
    enum Receiver: @unchecked Sendable {  // each is fed by one thread at a time, in order
        case grouped(GroupedReceiver)
        case lines(LineReceiver)
        case direct(DirectReceiver)
    }

    /// - Parameters: countsStart: this attempt's start is the job's (its
    ///   first try, not a retry of it); tag: the --tag/--tagstring prefix;
    ///   slotTag: instead, the prefix for the slot the attempt runs in (`{%}`
    ///   in --tagstring), asked once its first output comes, after it started.
    init(runner: JobRunner, attempt: Int, countsStart: Bool, tag: [UInt8]?,
         slotTag: (@Sendable (Int) -> [UInt8])? = nil) {
        self.runner = runner
        self.attempt = attempt
        self.countsStart = countsStart
        let cell = startedSlot
        let lateTag = slotTag.map { make in { make(cell.slot.load(ordering: .acquiring)) } }
        switch runner.config.outputMode {
        case .group: receiver = .grouped(lateTag.map { GroupedReceiver(tag: $0) } ?? GroupedReceiver(tag: tag))
        case .lineBuffer:
            receiver = .lines(lateTag.map { LineReceiver(sink: runner.sink, tag: $0) } ?? LineReceiver(sink: runner.sink, tag: tag))
        case .ungroup: receiver = .direct(DirectReceiver(sink: runner.sink))
        }
    }

    /// The job as built for its slot (called by the pool before it runs).
    func prepared(_ job: Job) -> Job {
        state.withLock { $0.job = job }
        return job
    }

    var job: Job? { state.withLock { $0.job } }
    var slot: Int { state.withLock { $0.slot } }
    var pid: Int32? { state.withLock { $0.pid } }
    /// The remote host the attempt ran on; nil: this machine.
    var host: String? { state.withLock { $0.host } }

    /// The grouped output, once the attempt is done.
    var output: JobOutput? {
        if case .grouped(let grouped) = receiver { return grouped.output }
        return nil
    }

    func taskStarted(slot: Int, pid: Int32?, host: String?) {
        let job: Job? = state.withLock { state in
            state.slot = slot
            startedSlot.slot.store(slot, ordering: .releasing)
            state.pid = pid
            state.host = host
            return state.job
        }
        if countsStart { runner.control.jobStarted() }
        // A remote job's pid names a process on its host, not one to signal here.
        if let pid, host == nil { runner.control.running.register(pid) }
        guard let job else { return }
        if runner.config.verbose { runner.sink.writeStderr(job.command + [0x0A]) }
        runner.emitStart(job, slot: slot, pid: pid, host: host, attempt: attempt)
    }

    func taskOutput(_ bytes: UnsafeRawBufferPointer, stream: TaskStream) {
        switch receiver {
        case .grouped(let r): r.receive(bytes, from: stream)
        case .lines(let r): r.receive(bytes, from: stream)
        case .direct(let r): r.receive(bytes, from: stream)
        }
    }

    /// The attempt is over: the last partial line goes out, the pid leaves the registry.
    func ended() {
        if case .lines(let lines) = receiver { lines.finish() }
        if let pid, host == nil { runner.control.running.unregister(pid) }
    }
}

/// A slot number shared with a receiver's late tag.
private final class SlotCell: Sendable {
    let slot = Atomic<Int>(0)
}
