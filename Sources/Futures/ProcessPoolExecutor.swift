// ProcessPoolExecutor: concurrent.futures' process pool for Swift programs.
//
//   submit(task) ─► queue ─► dispatcher ── request ──► worker process
//        │                                              (the host binary,
//        ▼                                               serveIfWorker)
//     Future ◄── reader thread ◄──────── response ◄──────────┘
//
// Each worker runs one task at a time. A worker that dies fails the task it
// held with BrokenProcessPool and a new worker takes the queue on.
import Foundation
import FuturesCore

/// Runs `ProcessTask`s in worker processes started from the host binary.
/// @unchecked Sendable: all mutable state is behind `lock`.
public final class ProcessPoolExecutor: @unchecked Sendable {
    /// Set in a worker's environment; `serveIfWorker` looks for it.
    static let workerVariable = "PFUTURES_PROCESS_POOL_WORKER"

    /// A submitted task and its future's three transitions.
    private final class Pending: @unchecked Sendable {  // immutable
        let request: TaskRequest
        let start: () -> Bool            // setRunningOrNotifyCancel; false if cancelled
        let complete: (Result<Data, any Error>) -> Void
        let cancel: () -> Void
        init(request: TaskRequest, start: @escaping () -> Bool, complete: @escaping (Result<Data, any Error>) -> Void,
             cancel: @escaping () -> Void) {
            self.request = request
            self.start = start
            self.complete = complete
            self.cancel = cancel
        }
    }

    /// @unchecked Sendable: `held` and `done` are touched under the pool's lock.
    private final class Worker: @unchecked Sendable {
        let process: Process
        let input: FileHandle
        let output: FileHandle
        var held: Pending?
        var done = 0
        init(process: Process, input: FileHandle, output: FileHandle) {
            self.process = process
            self.input = input
            self.output = output
        }
    }

    /// Worker processes at most.
    public let maxWorkers: Int
    private let executable: URL
    private let arguments: [String]
    private let maxTasksPerChild: Int?
    private let lock = NSCondition()
    private var queue: [Pending] = []
    private var workers: [ObjectIdentifier: Worker] = [:]
    private var readers: [WorkerThread] = []
    private var nextID: UInt64 = 0
    private var isShutdown = false
    private var startFailure: String?
    private var started = 0

    /// - Parameters:
    ///   - maxWorkers: worker processes at most (default: the number of cores).
    ///   - executable: the program to start as a worker (default: this one);
    ///     it must call `serveIfWorker` first thing.
    ///   - arguments: its arguments.
    ///   - maxTasksPerChild: replace a worker after this many tasks.
    public init(maxWorkers: Int? = nil, executable: URL? = nil, arguments: [String] = [], maxTasksPerChild: Int? = nil) {
        self.maxWorkers = max(1, maxWorkers ?? processorCount)
        self.executable = executable ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        self.arguments = arguments
        self.maxTasksPerChild = maxTasksPerChild
    }

    /// Worker processes started so far (replacements included).
    public var startedWorkers: Int { lock.lock(); defer { lock.unlock() }; return started }

    /// Schedules `task` on a worker process.
    /// - Throws: `ExecutorShutdownError` after shutdown; `BrokenProcessPool`
    ///   when no worker can be started; an encoding error for the task.
    public func submit<T: ProcessTask>(_ task: T) throws -> Future<T.Output> {
        let future = Future<T.Output>()
        let payload = try JSONEncoder().encode(task)
        lock.lock()
        defer { lock.unlock() }
        if isShutdown { throw ExecutorShutdownError() }
        if let startFailure { throw BrokenProcessPool(reason: startFailure) }
        nextID += 1
        let name = T.taskName
        queue.append(Pending(
            request: TaskRequest(id: nextID, task: name, payload: payload),
            start: { (try? future.setRunningOrNotifyCancel()) == true },
            complete: { outcome in
                switch outcome {
                case .success(let data):
                    do { try future.setResult(try JSONDecoder().decode(T.Output.self, from: data)) } catch {
                        try? future.setException(error)
                    }
                case .failure(let error): try? future.setException(error)
                }
            },
            cancel: { future.cancel() }))
        dispatchLocked()
        return future
    }

    /// The outputs of `tasks`, run in the pool, handed back lazily in input
    /// order with at most `buffersize` tasks submitted ahead (default: twice
    /// `maxWorkers`); the same contract as `Executor.map`.
    public func map<S: Sequence>(_ tasks: S, timeout: Duration? = nil, buffersize: Int? = nil)
        -> MapIterator<S.Element.Output> where S.Element: ProcessTask {
        var source = tasks.makeIterator()
        return MapIterator(deadline: Deadline.after(timeout), buffersize: max(1, buffersize ?? 2 * maxWorkers)) { [self] in
            guard let task = source.next() else { return nil }
            return try submit(task)
        }
    }

    /// Stops accepting tasks; with `cancelFutures`, queued ones are cancelled;
    /// with `wait`, returns once every worker has finished and exited.
    public func shutdown(wait: Bool = true, cancelFutures: Bool = false) {
        lock.lock()
        isShutdown = true
        if cancelFutures {
            for pending in queue { pending.cancel() }
            queue.removeAll()
        }
        retireIdleLocked()
        // Each reader is joined once, by the first shutdown that waits.
        let toJoin = wait ? readers : []
        if wait { readers.removeAll() }
        lock.unlock()
        for thread in toJoin where !thread.isCurrent { thread.join() }
    }

    // MARK: Dispatch

    private func dispatchLocked() {
        retireIdleLocked()
        while let pending = queue.first {
            let idle = workers.values.first { $0.held == nil }
            let worker: Worker
            if let idle {
                worker = idle
            } else if workers.count < maxWorkers {
                guard let new = startWorkerLocked() else { return }
                worker = new
            } else {
                return
            }
            queue.removeFirst()
            guard pending.start() else { continue }  // cancelled while queued
            worker.held = pending
            if let frame = try? Wire.frame(pending.request),
               Wire.write(frame, to: worker.input.fileDescriptor) { continue }
            // The worker is gone; its reader reports the task as broken.
        }
        retireIdleLocked()
    }

    /// Ends idle workers once nothing more will come (shutdown) or they did
    /// their share (maxTasksPerChild).
    private func retireIdleLocked() {
        for worker in workers.values where worker.held == nil {
            if (isShutdown && queue.isEmpty) || isSpent(worker) {
                try? worker.input.close()
                workers[ObjectIdentifier(worker)] = nil
            }
        }
    }

    private func isSpent(_ worker: Worker) -> Bool { maxTasksPerChild.map { worker.done >= $0 } ?? false }

    private func startWorkerLocked() -> Worker? {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[Self.workerVariable] = "1"
        process.environment = environment
        let toWorker = Pipe(), fromWorker = Pipe()
        process.standardInput = toWorker
        process.standardOutput = fromWorker
        do { try process.run() } catch {
            startFailure = "cannot start a worker: \(error)"
            for pending in queue { pending.complete(.failure(BrokenProcessPool(reason: startFailure!))) }
            queue.removeAll()
            return nil
        }
        try? toWorker.fileHandleForReading.close()
        try? fromWorker.fileHandleForWriting.close()
        let worker = Worker(process: process, input: toWorker.fileHandleForWriting, output: fromWorker.fileHandleForReading)
        workers[ObjectIdentifier(worker)] = worker
        started += 1
        readers.append(WorkerThread.start(name: "pool-reader") { [self] in read(worker) })
        return worker
    }

    /// One worker's responses, until it exits; then its held task fails.
    private func read(_ worker: Worker) {
        var failure = "worker process exited"
        while true {
            let response: TaskResponse?
            do { response = try Wire.read(TaskResponse.self, from: worker.output.fileDescriptor) } catch {
                failure = "\(error)"
                break
            }
            guard let response else { break }
            lock.lock()
            let pending = worker.held
            worker.held = nil
            worker.done += 1
            dispatchLocked()
            lock.unlock()
            guard let pending, pending.request.id == response.id else { failure = "worker answered out of turn"; break }
            if let output = response.output {
                pending.complete(.success(output))
            } else {
                pending.complete(.failure(RemoteTaskError(task: pending.request.task, message: response.error ?? "unknown error")))
            }
        }
        worker.process.waitUntilExit()
        if worker.process.terminationReason == .uncaughtSignal {
            failure = "worker process \(worker.process.processIdentifier) killed by signal \(worker.process.terminationStatus)"
        }
        lock.lock()
        let lost = worker.held
        worker.held = nil
        workers[ObjectIdentifier(worker)] = nil
        try? worker.input.close()
        if !queue.isEmpty { dispatchLocked() }  // a new worker takes over
        lock.unlock()
        lost?.complete(.failure(BrokenProcessPool(reason: failure)))
    }

    // MARK: The worker side

    /// Call first thing in the host program's main: in a worker process it
    /// serves `tasks` (plus the built-in `CommandTask` and `CopyTask`) until
    /// its input ends and then exits; elsewhere it returns at once.
    public static func serveIfWorker(_ tasks: [any ProcessTask.Type]) {
        guard ProcessInfo.processInfo.environment[workerVariable] == "1" else { return }
        var runners: [String: (Data) throws -> Data] = [:]
        for type in [CommandTask.self, CopyTask.self] + tasks { runners[type.taskName] = runner(for: type) }
        signal(SIGINT, SIG_IGN)  // the parent decides when workers end
        while let request = try? Wire.read(TaskRequest.self, from: 0) {
            var response = TaskResponse(id: request.id)
            if let run = runners[request.task] {
                do { response.output = try run(request.payload) } catch { response.error = "\(error)" }
            } else {
                response.error = "no task named \(request.task) is registered in the worker"
            }
            guard let frame = try? Wire.frame(response), Wire.write(frame, to: 1) else { exit(1) }
        }
        exit(0)
    }

    private static func runner<T: ProcessTask>(for type: T.Type) -> (Data) throws -> Data {
        { payload in try JSONEncoder().encode(try JSONDecoder().decode(T.self, from: payload).run()) }
    }
}
