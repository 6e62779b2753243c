// The parent side of --pool process: long-lived worker processes (pfutures
// re-executed, see WorkerMain.swift and the diagram in WorkerProtocol.swift)
// fed up to `chunksize` jobs per JOBS frame. One reader thread per worker
// turns its frames into progress of the jobs it holds; a worker that dies
// fails exactly the jobs it had started, and a new worker takes its place
// and the jobs that never started.
import CSpawn
import Dispatch
import FuturesCore
#if canImport(Glibc)
import Glibc
#endif

/// What became of a job sent to the pool.
public enum RemoteResult: Sendable, Equatable {
    /// The job ran (or failed to start) on a worker.
    case finished(JobOutcome, bytesCopied: Int, startedAt: Double, runtime: Double)
    /// A copy pair failed; the text is the reason.
    case copyFailed(String, startedAt: Double, runtime: Double)
    /// The job never started: drained on stop, or the pool is broken (the text says why).
    case notRun(String)
}

/// Callbacks of one job in the pool; called on the worker's reader thread.
public protocol RemoteJobObserver: AnyObject, Sendable {
    func started(pid: pid_t)
    func output(_ bytes: [UInt8], stream: OutputStream)
    func finished(pid: pid_t?)
}

/// Worker processes and the jobs they hold.
/// @unchecked Sendable: mutable state is behind `lock`.
public final class WorkerPool: @unchecked Sendable {
    /// @unchecked Sendable: its mutable fields are touched under the pool's lock.
    private final class Pending: @unchecked Sendable {
        let sequence: UInt64
        let makeJob: @Sendable (UInt32) -> WireJob
        let observer: RemoteJobObserver?
        var pid: pid_t?
        private(set) var result: RemoteResult?
        /// Signalled once `result` is set, to wake only this job's thread.
        private let done = DispatchSemaphore(value: 0)

        /// Sets the result (first one wins); called with the pool's lock held.
        func finish(_ outcome: RemoteResult) {
            guard result == nil else { return }
            result = outcome
            done.signal()
        }

        func waitForResult() { done.wait() }

        init(sequence: UInt64, makeJob: @escaping @Sendable (UInt32) -> WireJob, observer: RemoteJobObserver?) {
            self.sequence = sequence
            self.makeJob = makeJob
            self.observer = observer
        }
    }

    /// @unchecked Sendable: its mutable fields are touched under the pool's lock.
    private final class Worker: @unchecked Sendable {
        let slot: UInt32
        let pid: pid_t
        let input: Int32      // our write end of its stdin
        let output: Int32     // our read end of its stdout
        var held: [UInt64: Pending] = [:]
        var assigned = 0
        var retiring = false
        init(slot: UInt32, pid: pid_t, input: Int32, output: Int32) {
            self.slot = slot
            self.pid = pid
            self.input = input
            self.output = output
        }
    }

    private let lock = ConditionLock()
    private var size: Int
    private let chunksize: Int
    private let maxTasksPerChild: Int?
    private let executable: [UInt8]
    private let settings: WorkerSettings
    private var queue: [Pending] = []
    private var workers: [UInt32: Worker] = [:]
    private var readers: [WorkerThread] = []
    private var broken: String?
    private var stopping = false
    private var closed = false
    /// Called once when the pool breaks (a failed initializer).
    private let onBroken: @Sendable (String) -> Void

    /// - Parameters:
    ///   - size: worker processes (each runs one job at a time).
    ///   - chunksize: jobs per JOBS frame.
    ///   - maxTasksPerChild: a worker is replaced after this many jobs.
    public init(size: Int, chunksize: Int, maxTasksPerChild: Int?, executable: [UInt8], settings: WorkerSettings,
                onBroken: @escaping @Sendable (String) -> Void) {
        self.size = max(1, size)
        self.chunksize = max(1, chunksize)
        self.maxTasksPerChild = maxTasksPerChild
        self.executable = executable
        self.settings = settings
        self.onBroken = onBroken
    }

    /// Runs one job on a worker and waits for its result. `makeJob` builds
    /// the job for the worker slot (1...size) that takes it.
    public func execute(sequence: Int, observer: RemoteJobObserver?, makeJob: @escaping @Sendable (UInt32) -> WireJob) -> RemoteResult {
        let pending = Pending(sequence: UInt64(sequence), makeJob: makeJob, observer: observer)
        lock.lock()
        defer { lock.unlock() }
        if let broken { return .notRun(broken) }
        if stopping { return .notRun("the run is stopping") }
        queue.append(pending)
        dispatchLocked()
        lock.unlock()
        pending.waitForResult()
        lock.lock()
        return pending.result!
    }

    /// Adds or removes worker processes (SIGUSR1/SIGUSR2), never below one;
    /// a worker beyond the new size retires once its jobs are done.
    public func resize(by delta: Int) {
        lock.withLock {
            size = max(1, size + delta)
            for worker in workers.values where worker.slot > UInt32(size) && !worker.retiring { endLocked(worker) }
            dispatchLocked()
        }
    }

    /// Stops running jobs (their kill sequence) and drops queued ones.
    public func stop() {
        let targets: [Worker] = lock.withLock {
            stopping = true
            for pending in queue { pending.finish(.notRun("the run is stopping")) }
            queue.removeAll()
            return Array(workers.values)
        }
        for worker in targets { try? writeAll(worker.input, FrameWriter().frame(.stop)) }
    }

    /// Ends every worker (end of input on their stdin) and reaps them.
    public func shutdown() {
        let threads: [WorkerThread] = lock.withLock {
            closed = true
            for worker in workers.values where !worker.retiring { endLocked(worker) }
            defer { readers.removeAll() }
            return readers
        }
        for thread in threads { thread.join() }
    }

    /// END, then end of input: the worker finishes what it holds and exits.
    private func endLocked(_ worker: Worker) {
        worker.retiring = true
        try? writeAll(worker.input, FrameWriter().frame(.end))
        close(worker.input)
    }

    // MARK: Dispatch

    private func dispatchLocked() {
        guard broken == nil else { return }
        while !queue.isEmpty {
            if workers.count < size, let slot = freeSlotLocked() {
                guard startWorkerLocked(slot: slot) else { return }
            }
            // An idle worker first; else one message queued behind a running
            // job, so a worker starts its next job without a round trip to us.
            let depth = 2 * chunksize
            guard let worker = workers.values.filter({ !$0.retiring && $0.held.count < depth })
                .min(by: { ($0.held.count, $0.slot) < ($1.held.count, $1.slot) }) else { return }
            var count = min(chunksize, queue.count, depth - worker.held.count)
            if let limit = maxTasksPerChild { count = min(count, limit - worker.assigned) }
            let batch = Array(queue.prefix(count))
            queue.removeFirst(count)
            worker.assigned += count
            for pending in batch { worker.held[pending.sequence] = pending }
            if let limit = maxTasksPerChild, worker.assigned >= limit { worker.retiring = true }
            let frame = WireJob.frame(batch.map { $0.makeJob(worker.slot) })
            if (try? writeAll(worker.input, frame)) == nil {
                // The reader thread will see the worker die and fail these jobs.
                continue
            }
            if worker.retiring { endLocked(worker) }  // it exits once its jobs are done
        }
    }

    private func freeSlotLocked() -> UInt32? {
        (1...UInt32(size)).first { workers[$0] == nil }
    }

    private func startWorkerLocked(slot: UInt32) -> Bool {
        var toWorker: [Int32] = [-1, -1], fromWorker: [Int32] = [-1, -1]
        guard pf_pipe(&toWorker) == 0 else { return false }
        guard pf_pipe(&fromWorker) == 0 else { close(toWorker[0]); close(toWorker[1]); return false }
        let argv = [executable, WorkerSettings.argument] + settings.arguments
        // No parent-death signal: it would follow the spawning thread, not
        // pfutures. A worker that reads end of input without END stops instead.
        let pid = spawnChild(path: executable, argv: argv, environment: currentEnvironment(),
                             stdio: ChildStdio(stdin: toWorker[0], stdout: fromWorker[1]), deathSignal: 0)
        close(toWorker[0])
        close(fromWorker[1])
        guard pid > 0 else {
            close(toWorker[1]); close(fromWorker[0])
            breakLocked("cannot start a worker process: \(errnoText(-pid))")
            return false
        }
        let worker = Worker(slot: slot, pid: pid, input: toWorker[1], output: fromWorker[0])
        workers[slot] = worker
        readers.append(WorkerThread.start(name: "worker_\(slot)") { [self] in serve(worker) })
        return true
    }

    private func breakLocked(_ reason: String) {
        guard broken == nil else { return }
        broken = reason
        for pending in queue { pending.finish(.notRun(reason)) }
        queue.removeAll()
        let report = onBroken
        report(reason)
    }

    // MARK: Reading a worker

    /// The reader loop of one worker: frames until it exits, then cleanup.
    private func serve(_ worker: Worker) {
        let input = FrameInput(fd: worker.output)
        var failure: String?
        var initFailure: String?
        do throws(ProtocolError) {
            guard let (type, payload) = try input.next(), type == .hello else { throw ProtocolError("no HELLO") }
            var r = FrameReader(payload)
            guard try r.string() == workerProtocolMagic, try r.u8() == workerProtocolVersion else {
                throw ProtocolError("worker speaks another protocol version")
            }
            while let (type, payload) = try input.next() {
                switch type {
                case .started:
                    var r = FrameReader(payload)
                    let sequence = try r.u64(), pid = try r.i32()
                    let pending: Pending? = lock.withLock {
                        worker.held[sequence]?.pid = pid
                        return worker.held[sequence]
                    }
                    pending?.observer?.started(pid: pid)
                case .output:
                    var r = FrameReader(payload)
                    let sequence = try r.u64(), stream = try r.u8(), bytes = try r.string()
                    let pending = lock.withLock { worker.held[sequence] }
                    pending?.observer?.output(bytes, stream: stream == 1 ? .stdout : .stderr)
                case .result:
                    let (sequence, outcome, startedAt, runtime) = try WireOutcome.decode(payload)
                    let (pending, pid) = lock.withLock { () -> (Pending?, pid_t?) in
                        let pending = worker.held.removeValue(forKey: sequence)
                        return (pending, pending?.pid)
                    }
                    guard let pending else { throw ProtocolError("result for a job the worker does not hold") }
                    pending.observer?.finished(pid: pid)
                    let result: RemoteResult
                    switch outcome {
                    case .finished(let o, let bytes): result = .finished(o, bytesCopied: bytes, startedAt: startedAt, runtime: runtime)
                    case .cancelled: result = .notRun("the run is stopping")
                    case .copyFailed(let why): result = .copyFailed(why, startedAt: startedAt, runtime: runtime)
                    }
                    lock.withLock {
                        pending.finish(result)
                        dispatchLocked()
                    }
                case .initFailed:
                    var r = FrameReader(payload)
                    initFailure = String(decoding: try r.string(), as: UTF8.self)
                default:
                    throw ProtocolError("unexpected frame \(type) from a worker")
                }
            }
        } catch {
            failure = "protocol error: \(error.description)"
        }
        close(worker.output)
        var status: Int32 = 0
        while waitpid(worker.pid, &status, 0) < 0 && errno == EINTR {}
        var code: Int32 = 0
        let how: String
        switch pf_decode_status(status, &code) {
        case 2: how = "killed by signal \(code)"
        case 1: how = "exited with status \(code)"
        default: how = "ended"
        }
        lock.withLock {
            if workers[worker.slot] === worker { workers[worker.slot] = nil }
            if !worker.retiring { close(worker.input) }
            if let initFailure { breakLocked("initializer failed: \(initFailure)") }
            let reason = failure ?? "worker process \(worker.pid) \(how)"
            // Jobs it had started are lost with it; those still queued in it
            // never ran, so another worker takes them.
            var requeued: [Pending] = []
            for pending in worker.held.values {
                if pending.pid == nil && broken == nil && !stopping && !closed {
                    requeued.append(pending)
                    continue
                }
                pending.observer?.finished(pid: pending.pid)
                pending.finish(broken.map { .notRun($0) }
                    ?? (pending.pid == nil ? .notRun("the run is stopping")
                        : .finished(.lost(reason), bytesCopied: 0, startedAt: wallClockNow(), runtime: 0)))
            }
            queue.insert(contentsOf: requeued.sorted { $0.sequence < $1.sequence }, at: 0)
            worker.held.removeAll()
            if !closed { dispatchLocked() }  // a new worker takes its place
        }
    }
}
