// ThreadPoolExecutor: a queue of work items served by threads, at most
// maxWorkers items at once. Threads start lazily, only when no started
// thread is free, and live until shutdown. The pool owns queue, threads,
// the cap and the slot numbers; a worker is the small loop in `work`.
#if canImport(Glibc)
import Glibc
#endif

/// Runs work on a pool of threads, as Python's `ThreadPoolExecutor`.
///
/// The threads hold the pool's state, not the executor: an executor
/// dropped without `shutdown` shuts down by itself (work already queued
/// still runs, then its threads end), so no thread outlives its use.
public final class ThreadPoolExecutor: ClosureExecutor, Sendable {
    @usableFromInline let pool: ThreadPool

    /// What other modules of this package attach to the pool (the task
    /// layer's stop switch); not part of the public API.
    package let attachment = Attachment()

    /// The default worker count: min(32, cores + 4), as CPython.
    public static var defaultMaxWorkers: Int { min(32, processorCount + 4) }

    /// - Parameters:
    ///   - maxWorkers: the most work items run at once, and threads started
    ///     (default `defaultMaxWorkers`); must be positive.
    ///   - threadNamePrefix: worker threads are named PREFIX_N.
    ///   - initializer: run once in each worker thread before its first work
    ///     item; if it throws, the pool is broken: pending futures fail with
    ///     `BrokenThreadPool` and later submits throw it.
    ///   - onThreadStartFailure: told why, once, when the system gives no
    ///     more threads (EAGAIN, `ulimit -u`): the cap comes down to the
    ///     threads started, and the pool goes on with those. With none
    ///     started, the pool is broken instead (`BrokenThreadPool`).
    public init(maxWorkers: Int? = nil, threadNamePrefix: String = "pool",
                initializer: (@Sendable () throws -> Void)? = nil,
                onThreadStartFailure: (@Sendable (String) -> Void)? = nil) {
        let count = maxWorkers ?? Self.defaultMaxWorkers
        precondition(count > 0, "maxWorkers must be greater than 0")
        pool = ThreadPool(limit: count, namePrefix: threadNamePrefix, initializer: initializer,
                          onThreadStartFailure: onThreadStartFailure)
    }

    deinit { pool.abandon() }

    /// The most work items run at once (and threads started).
    public var maxWorkers: Int { pool.maxWorkers }

    /// The number of threads running: started lazily, ended only by
    /// shutdown or, when idle, by a cap lowered below them.
    public var threadCount: Int { pool.threadCount }

    /// Queues `work`, starting a thread only when no started one is free.
    /// - Throws: `BrokenThreadPool` once an initializer failed;
    ///   `ExecutorShutdownError` after `shutdown`.
    @inlinable  // specialised where it is called: no generic metadata look-ups per submit
    public func submit<T: Sendable>(_ work: @escaping @Sendable () throws -> T) throws -> Future<T> {
        let future = Future<T>()
        try pool.enqueue(PlainWorkItem(future: future, work: work))
        return future
    }

    /// Queues `work`, which is told its slot: a number in 1...maxWorkers that
    /// no other running item holds (the `{%}` of pfutures).
    /// - Throws: as `submit`.
    package func submitSlotted<T: Sendable>(_ work: @escaping @Sendable (Int) throws -> T) throws -> Future<T> {
        let future = Future<T>()
        try pool.enqueue(SlottedWorkItem(future: future, work: work))
        return future
    }

    /// Moves the cap by `delta` (never below 1); for pfutures' SIGUSR1 and
    /// SIGUSR2, not part of the concurrent.futures API. Running items are
    /// not touched: after a decrease, new ones start as old ones end.
    public func adjustMaxWorkers(by delta: Int) { pool.adjustMaxWorkers(by: delta) }

    /// Stops accepting work; see `Executor.shutdown(wait:cancelFutures:)`.
    /// Each thread is joined once, by the first call that waits.
    public func shutdown(wait: Bool = true, cancelFutures: Bool = false) {
        pool.shutdown(wait: wait, cancelFutures: cancelFutures)
    }
}

/// The queue, threads, cap and slot numbers of one `ThreadPoolExecutor`;
/// what its threads hold. A worker is the small loop in `work`.
/// @unchecked Sendable: all mutable state is behind `lock`.
@usableFromInline final class ThreadPool: @unchecked Sendable {
    // Every `var` below is read and written only under `lock`, so the
    // runtime's exclusivity checks on them can never fire; unchecked, they
    // no longer cost a tenth of a no-op submit (the thread sanitizer still
    // sees any access outside the lock).
    @exclusivity(unchecked) private var limit: Int
    private let namePrefix: String
    private let initializer: (@Sendable () throws -> Void)?
    private let lock = ConditionLock()
    // A taken item's place is set to nil at once, so the worker holds the
    // only reference and the item is freed outside the lock, not when the
    // taken prefix is dropped under it.
    @exclusivity(unchecked) private var queue: [WorkItem?] = []
    @exclusivity(unchecked) private var queueHead = 0
    @exclusivity(unchecked) private var threads: [WorkerThread] = []  // started and not yet joined
    @exclusivity(unchecked) private var started = 0
    @exclusivity(unchecked) private var busy = 0       // threads running an item or still starting
    @exclusivity(unchecked) private var running = 0    // items running: never above `limit`
    @exclusivity(unchecked) private var slotTaken: [Bool] = []  // slot n is index n-1
    @exclusivity(unchecked) private var waiting = 0    // threads blocked in lock.wait()
    @exclusivity(unchecked) private var wakeups = 0    // signals sent and not yet taken by a waiter
    @exclusivity(unchecked) private var isShutdown = false
    @exclusivity(unchecked) private var broken: BrokenThreadPool?

    private var toldStartFailure = false
    private let onThreadStartFailure: (@Sendable (String) -> Void)?

    init(limit: Int, namePrefix: String, initializer: (@Sendable () throws -> Void)?,
         onThreadStartFailure: (@Sendable (String) -> Void)?) {
        self.limit = limit
        self.namePrefix = namePrefix
        self.initializer = initializer
        self.onThreadStartFailure = onThreadStartFailure
    }

    var maxWorkers: Int { lock.withLock { limit } }
    var threadCount: Int { lock.withLock { started } }

    /// Queues `item`, starting or waking a thread for it.
    /// - Throws: `BrokenThreadPool`, or `ExecutorShutdownError` after shutdown.
    @usableFromInline func enqueue(_ item: WorkItem) throws {
        let failure: StartFailure? = try lock.withLock {
            if let broken { throw broken }
            if isShutdown { throw ExecutorShutdownError() }
            queue.append(item)
            if queue.count - queueHead > started - busy && started < limit {
                return startThreadLocked()
            } else if waiting > wakeups {
                // Wake a sleeper only when none is already on its way: a busy
                // pool picks the item up without a futex call.
                wakeups += 1
                lock.signal()
            }
            return nil
        }
        handle(failure)
    }

    func adjustMaxWorkers(by delta: Int) {
        let failure: StartFailure? = lock.withLock {
            if limit != Int.max { limit = max(1, limit + delta) }
            if delta > 0 { toldStartFailure = false }  // asked for more: say it again if it fails again
            defer { lock.broadcast() }
            if queue.count - queueHead > started - busy && started < limit { return startThreadLocked() }
            return nil
        }
        handle(failure)
    }

    func shutdown(wait: Bool, cancelFutures: Bool) {
        let (cancelled, toJoin): ([WorkItem], [WorkerThread]) = lock.withLock {
            isShutdown = true
            let dropped = cancelFutures ? takeQueueLocked() : []
            lock.broadcast()
            // Each thread is joined once: a later shutdown finds none left.
            let unjoined = wait ? threads : []
            if wait { threads.removeAll() }
            return (dropped, unjoined)
        }
        for item in cancelled { item.cancel() }
        if wait {
            for thread in toJoin where !thread.isCurrent { thread.join() }
        }
    }

    /// The executor was dropped without a waiting shutdown: queued work
    /// still runs, then the threads end; nobody will join them, so they
    /// are detached (their resources go back when they end).
    func abandon() {
        shutdown(wait: false, cancelFutures: false)
        let unjoined: [WorkerThread] = lock.withLock {
            defer { threads.removeAll() }
            return threads
        }
        for thread in unjoined { thread.detach() }
    }

    /// What a thread that could not be started leaves to do outside the lock.
    private enum StartFailure {
        case lowered(String)             // the cap came down to the threads there are
        case broken(BrokenThreadPool, [WorkItem])  // no thread at all: fail these
    }

    /// Starts one more thread. When the system has none to give (EAGAIN,
    /// `ulimit -u`), the cap comes down to the threads started, said once;
    /// with none started, the pool is broken.
    private func startThreadLocked() -> StartFailure? {
        do {
            let thread = try WorkerThread.start(name: "\(namePrefix)_\(started + 1)") { [self] in
                work(initializer: initializer)
            }
            started += 1
            busy += 1  // a new thread counts as busy until it looks for work
            threads.append(thread)
            return nil
        } catch {
            guard started > 0 else {
                let failure = BrokenThreadPool(reason: error.description)
                broken = failure
                return .broken(failure, takeQueueLocked())
            }
            limit = started
            if toldStartFailure { return nil }
            toldStartFailure = true
            return .lowered("\(error.description); running at most \(started) at once")
        }
    }

    private func handle(_ failure: StartFailure?) {
        switch failure {
        case .lowered(let message)?: onThreadStartFailure?(message)
        case .broken(let error, let items)?: for item in items { item.fail(error) }
        case nil: break
        }
    }

    private func takeQueueLocked() -> [WorkItem] {
        let items = queue[queueHead...].compactMap { $0 }
        queue.removeAll()
        queueHead = 0
        return items
    }

    private func takeSlotLocked() -> Int {
        if let free = slotTaken.firstIndex(of: false) {
            slotTaken[free] = true
            return free + 1
        }
        slotTaken.append(true)
        return slotTaken.count
    }

    /// The worker loop: initialize once, then take items while the cap
    /// allows, until shutdown leaves the queue empty.
    private func work(initializer: (@Sendable () throws -> Void)?) {
        if let initializer {
            do { try initializer() } catch { breakPool(reason: "initializer failed: \(error)"); return }
        }
        lock.lock()
        busy -= 1  // started: free to take work
        while true {
            if broken != nil { lock.unlock(); return }
            if queueHead < queue.count && running < limit {
                guard let item = queue[queueHead].take() else { preconditionFailure("a queued item was taken twice") }
                queueHead += 1
                dropTakenPrefix(&queue, head: &queueHead)
                busy += 1
                running += 1
                let slot = takeSlotLocked()
                lock.unlock()
                item.execute(slot: slot)
                lock.withLock {
                    busy -= 1
                    running -= 1
                    slotTaken[slot - 1] = false
                }
                // Published before this thread takes another item: the result's
                // callbacks (a --halt, an exit 255) may cancel what is queued.
                item.publish()
                // The last reference (and what the work captured) goes here,
                // not under the lock: a deinit may use this pool.
                _ = consume item
                lock.lock()
            } else if queueHead == queue.count && isShutdown {
                lock.unlock()
                return
            } else if started > limit {
                // The cap came down (SIGUSR2, a shortage of threads or
                // processes): an idle thread above it ends, giving back what
                // it holds; nobody needs to join it.
                started -= 1
                if let mine = threads.firstIndex(where: { $0.isCurrent }) { threads.remove(at: mine).detach() }
                lock.unlock()
                return
            } else {
                waiting += 1
                lock.wait()
                waiting -= 1
                if wakeups > 0 { wakeups -= 1 }
            }
        }
    }

    private func breakPool(reason: String) {
        let error = BrokenThreadPool(reason: reason)
        let pending: [WorkItem] = lock.withLock {
            busy -= 1
            if broken == nil { broken = error }
            lock.broadcast()
            return takeQueueLocked()
        }
        for item in pending { item.fail(error) }
    }
}

/// One queued submission. The worker calls `execute` then, once it counts
/// itself free, `publish`, so a caller woken by the result finds the thread
/// ready for reuse. The queue holds this non-generic base (no metadata
/// look-ups while queueing); a subclass holds the caller's closure as it
/// came, so a submit allocates no wrapping closure.
@usableFromInline class WorkItem {
    private let future: AnyFuture
    // Written by the one thread running the item, then read by it.
    @exclusivity(unchecked) private var outcome: Result<any Sendable, any Error>?

    @usableFromInline init(future: AnyFuture) { self.future = future }

    /// The work itself; subclasses call their closure.
    func run(slot: Int) throws -> any Sendable { preconditionFailure("WorkItem.run is abstract") }

    final func execute(slot: Int) {
        guard (try? future.setRunningOrNotifyCancel()) == true else { return }
        outcome = Result { try run(slot: slot) }
    }

    final func publish() {
        if let outcome { try? future.finish(outcome) }
        outcome = nil
    }

    final func fail(_ error: any Error) { try? future.setException(error) }
    final func cancel() { future.cancel() }
}

/// Work that is not told its slot (`submit`).
@usableFromInline final class PlainWorkItem<T: Sendable>: WorkItem {
    private let work: @Sendable () throws -> T
    @usableFromInline init(future: Future<T>, work: @escaping @Sendable () throws -> T) {
        self.work = work
        super.init(future: future)
    }
    override func run(slot: Int) throws -> any Sendable { try work() }
}

/// Work that is told its slot (`submitSlotted`).
private final class SlottedWorkItem<T: Sendable>: WorkItem {
    private let work: @Sendable (Int) throws -> T
    init(future: Future<T>, work: @escaping @Sendable (Int) throws -> T) {
        self.work = work
        super.init(future: future)
    }
    override func run(slot: Int) throws -> any Sendable { try work(slot) }
}

/// One value another module of this package hangs on an object of this
/// one, made on first use. @unchecked Sendable: `value` is behind `lock`.
package final class Attachment: @unchecked Sendable {
    private let lock = ConditionLock()
    private var value: (any Sendable)?

    /// The attached value, made by `make` the first time.
    package func value<T: Sendable>(orMake make: () -> T) -> T {
        lock.withLock {
            if let existing = value as? T { return existing }
            let made = make()
            value = made
            return made
        }
    }
}

/// Online processors, as `os.cpu_count()`.
public var processorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
