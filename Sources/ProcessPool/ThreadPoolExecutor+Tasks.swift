// The thread pool runs PoolTasks too, in this process: the task is built
// for its slot and run on a worker thread, with a context that reports
// straight to the submitter's observer. So code holding a `TaskExecutor`
// never asks which pool it has.
import FuturesCore

extension ThreadPoolExecutor: TaskExecutor {
    /// Schedules the task `makeTask` builds for its slot, on a worker thread.
    /// - Throws: as `submit(_:)`.
    public func submit<T: PoolTask>(observer: (any TaskObserver)?, _ makeTask: @escaping @Sendable (Int) -> T) throws
        -> Future<T.Output> {
        let stop = stopSwitch
        return try submitSlotted { slot in
            let context = InProcessContext(slot: slot, stopSwitch: stop, observer: observer)
            if !T.reportsOwnStart { context.started(pid: nil) }
            return try makeTask(slot).run(in: context)
        }
    }

    /// Fires the stop switch every task of this pool watches.
    public func stopRunningTasks() { stopSwitch.fire() }

    /// The pool's stop switch, made on first use.
    private var stopSwitch: StopSwitch { attachment.value { StopSwitch() } }
}

/// A task's view of the thread pool: its slot, the stop switch, and the
/// submitter's observer, called directly.
private final class InProcessContext: TaskContext {
    let slot: Int
    let stopSwitch: StopSwitch
    private let observer: (any TaskObserver)?
    private var announced = false

    init(slot: Int, stopSwitch: StopSwitch, observer: (any TaskObserver)?) {
        self.slot = slot
        self.stopSwitch = stopSwitch
        self.observer = observer
    }

    var sharesSubmittersOutput: Bool { true }

    func started(pid: Int32?) {
        guard !announced else { return }
        announced = true
        observer?.taskStarted(slot: slot, pid: pid, host: nil)
    }

    func output(_ bytes: UnsafeRawBufferPointer, stream: TaskStream) { observer?.taskOutput(bytes, stream: stream) }
}
