// The common currency of both pools: a task is a value a worker can decode
// and run. The thread pool runs it in this process; the process pool sends
// it to a worker process in a JOBS frame. Code that submits tasks through
// `TaskExecutor` never needs to know which pool it holds.
import FuturesCore
#if canImport(Glibc)
import Glibc
#endif

/// A unit of work that can cross a process: it encodes itself to bytes,
/// a worker decodes it by `taskName`, runs it and sends its `Output` back.
/// A worker program serves the task types it is given
/// (`WorkerServer.serve(tasks:)`); both pools run the same `run(in:)`.
public protocol PoolTask: Sendable {
    associatedtype Output: Sendable
    /// The name a worker looks the task up by.
    static var taskName: String { get }
    /// True when `run(in:)` calls `context.started(pid:)` itself (as soon
    /// as it has started a process); otherwise the pool announces the start
    /// just before `run(in:)`.
    static var reportsOwnStart: Bool { get }
    /// The task as bytes, for a JOBS frame.
    func encoded() -> [UInt8]
    /// The task from `encoded()` bytes.
    /// - Throws: when the bytes are not such a task.
    init(decoding bytes: [UInt8]) throws
    /// Does the work, in a worker thread or a worker process.
    /// - Throws: any error; the caller's future fails with it (in a worker
    ///   process, as `RemoteTaskError` with its text).
    func run(in context: any TaskContext) throws -> Output
    /// `output` as bytes, for a RESULT frame.
    static func encode(output: Output) -> [UInt8]
    /// The output from `encode(output:)` bytes.
    /// - Throws: when the bytes are not such an output.
    static func decodeOutput(_ bytes: [UInt8]) throws -> Output
    /// True when the submitter must see `output` before the worker starts
    /// a task queued behind this one (prefetch, chunksize): its callbacks
    /// may stop the pool, as a failed job does under `--halt` or with exit
    /// 255. A task that threw always asks.
    static func asksBeforeNextTask(after output: Output) -> Bool
}

extension PoolTask {
    /// The type's name, e.g. "Resize".
    public static var taskName: String { String(describing: Self.self) }
    /// By default the pool announces the start.
    public static var reportsOwnStart: Bool { false }
    /// By default no output stops the pool.
    public static func asksBeforeNextTask(after output: Output) -> Bool { false }
}

/// Which output stream of a task's process bytes came from.
public enum TaskStream: UInt8, Sendable { case stdout = 1, stderr = 2 }

/// What a running task can see of, and tell, the pool that runs it.
public protocol TaskContext: AnyObject {
    /// The task's slot: a number in 1...maxWorkers that no other running
    /// task of the pool holds.
    var slot: Int { get }
    /// Fired when the pool is told to stop running tasks; a task polls its
    /// descriptor or checks `isFired` and ends early.
    var stopSwitch: StopSwitch { get }
    /// True when the task runs inside the process that submitted it, so a
    /// child it starts may write straight to that process's stdout and stderr.
    var sharesSubmittersOutput: Bool { get }
    /// Announces the start (with the process group leader's pid, if any);
    /// the first call counts.
    func started(pid: Int32?)
    /// Passes output on to the submitter's observer as it comes.
    func output(_ bytes: UnsafeRawBufferPointer, stream: TaskStream)
}

/// Hears about one submitted task while it runs: in the thread that runs
/// it (thread pool), or in the reader thread of its worker (process pool).
public protocol TaskObserver: AnyObject, Sendable {
    /// The task started in `slot`; `pid` leads its process group, if it has
    /// one; `host` names the remote host it runs on (nil: this machine, so
    /// the pid is one this process may signal).
    func taskStarted(slot: Int, pid: Int32?, host: String?)
    /// Output of the task's process, in order.
    func taskOutput(_ bytes: UnsafeRawBufferPointer, stream: TaskStream)
}

/// An executor that runs `PoolTask`s: both pools of this package.
public protocol TaskExecutor: Executor {
    /// Schedules the task that `makeTask` builds once its slot is known
    /// (it is called once, with the slot), reporting its progress to `observer`.
    /// - Throws: `ExecutorShutdownError` after `shutdown`; the pool's broken
    ///   error once it can no longer run tasks.
    func submit<T: PoolTask>(observer: (any TaskObserver)?, _ makeTask: @escaping @Sendable (Int) -> T) throws
        -> Future<T.Output>

    /// Fires every running task's stop switch, now and for tasks that start
    /// later (pfutures' `--halt now`, `--deadline`): for the end of a run.
    func stopRunningTasks()

    /// Moves the cap by `delta`, never below 1, without stopping running
    /// tasks (pfutures' SIGUSR1 and SIGUSR2).
    func adjustMaxWorkers(by delta: Int)
}

extension TaskExecutor {
    /// Schedules `task`.
    /// - Throws: as `submit(observer:_:)`.
    public func submit<T: PoolTask>(_ task: T) throws -> Future<T.Output> {
        try submit(observer: nil) { _ in task }
    }

    /// The outputs of `tasks`, handed back in input order with at most
    /// `buffersize` submitted ahead (default: twice `maxWorkers`), starting
    /// at the call; the same contract as `ClosureExecutor.map`.
    /// - Throws: the executor's submit error, such as `ExecutorShutdownError`.
    public func map<S: Sequence>(_ tasks: S, timeout: Duration? = nil, buffersize: Int? = nil)
        throws -> MapIterator<S.Element.Output> where S.Element: PoolTask {
        var source = tasks.makeIterator()
        return try MapIterator(deadline: Deadline.after(timeout), buffersize: mapBuffersize(buffersize)) { [self] in
            guard let task = source.next() else { return nil }
            return try submit(task)
        }
    }
}

/// A task threw in its worker process; the error's text comes back.
public struct RemoteTaskError: Error, Equatable, CustomStringConvertible {
    /// The task's name.
    public let task: String
    /// The error's text, as the worker described it.
    public let message: String
    /// - Parameters: task: the task's name; message: the error's text.
    public init(task: String, message: String) {
        self.task = task
        self.message = message
    }
    /// "NAME failed in its worker: MESSAGE".
    public var description: String { "\(task) failed in its worker: \(message)" }
}

/// The process pool could not run a task to its end: the worker holding it
/// died or went silent (`taskWasRunning`), or no worker can be had (a
/// worker could not be started, its initializer failed, it speaks another
/// protocol version).
public struct BrokenProcessPool: Error, Equatable, CustomStringConvertible {
    /// What happened.
    public let reason: String
    /// True when the task had started in the worker that was lost.
    public let taskWasRunning: Bool
    /// - Parameters: reason: what happened; taskWasRunning: whether the task had started.
    public init(reason: String, taskWasRunning: Bool = false) {
        self.reason = reason
        self.taskWasRunning = taskWasRunning
    }
    /// "process pool is broken: " and the reason.
    public var description: String { "process pool is broken: \(reason)" }
}
