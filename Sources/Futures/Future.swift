// Future: the state machine of one piece of work. Four methods change the
// state (cancel, setRunningOrNotifyCancel, setResult, setException); every
// other member only reads it. Callbacks and waiters are told outside the lock.
#if canImport(Glibc)
import Glibc
#endif

/// Something that wants to hear when a future finishes (blocking reads,
/// `wait` and `asCompleted`); told after the future's lock is released.
protocol CompletionObserver: AnyObject, Sendable {
    func futureFinished(_ id: ObjectIdentifier, failed: Bool)
}

/// The eventual result of work handed to an `Executor`.
///
/// A future goes pending → running → finished, or pending → cancelled.
/// Executors drive it; users read it and may cancel it while it is pending.
/// @unchecked Sendable: all mutable state is behind `mutex`.
public final class Future<Value: Sendable>: @unchecked Sendable, Hashable {
    enum State {
        case pending
        case running
        case finished(Result<Value, any Error>)
        case cancelled

        var isDone: Bool {
            switch self {
            case .pending, .running: false
            case .finished, .cancelled: true
            }
        }

        var name: String {
            switch self {
            case .pending: "pending"
            case .running: "running"
            case .finished: "finished"
            case .cancelled: "cancelled"
            }
        }
    }

    private struct Storage {
        var state = State.pending
        var callbacks: [@Sendable (Future<Value>) throws -> Void] = []
        var observers: [any CompletionObserver] = []
    }

    // A plain pthread mutex (the thread sanitizer sees it; it does not see
    // Synchronization.Mutex); a thread that has to block waits on a small
    // observer object made only then, so a future needs no condition variable.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var unguarded = Storage()

    /// A new pending future; executors create these, tests may too.
    public init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` on the state with the mutex held.
    private var storage: LockedStorage { LockedStorage(future: self) }

    private struct LockedStorage {
        let future: Future
        func withLock<R>(_ body: (inout Storage) throws -> R) rethrows -> R {
            pthread_mutex_lock(future.mutex)
            defer { pthread_mutex_unlock(future.mutex) }
            return try body(&future.unguarded)
        }
    }

    // MARK: Reading the state

    /// True while the work is executing.
    public var isRunning: Bool { storage.withLock { if case .running = $0.state { return true }; return false } }

    /// True once cancelled.
    public var isCancelled: Bool { storage.withLock { if case .cancelled = $0.state { return true }; return false } }

    /// True once finished or cancelled.
    public var isDone: Bool { storage.withLock { $0.state.isDone } }

    /// The work's value, waiting up to `timeout` (nil: forever) for it.
    /// - Throws: the work's own error; `CancelledError` if cancelled;
    ///   `TimeoutError` if not done in time.
    public func result(timeout: Duration? = nil) throws -> Value {
        try waitForOutcome(timeout).get()
    }

    /// The work's error, or nil if it succeeded, waiting up to `timeout`.
    /// - Throws: `CancelledError` if cancelled; `TimeoutError` if not done in time.
    public func exception(timeout: Duration? = nil) throws -> (any Error)? {
        if case .failure(let error) = try waitForOutcome(timeout) { return error }
        return nil
    }

    /// The work's value, awaited from Swift concurrency without blocking a thread.
    /// - Throws: as `result(timeout:)` without a timeout.
    public var value: Value {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                addDoneCallback { future in
                    continuation.resume(with: Result { try future.result(timeout: .zero) })
                }
            }
        }
    }

    private func waitForOutcome(_ timeout: Duration?) throws -> Result<Value, any Error> {
        if let outcome = try doneOutcome() { return outcome }
        let deadline = Deadline.after(timeout)
        let waiter = CompletionCounter()
        if !observe(waiter).done {
            waiter.wait(deadline: deadline) { done, _ in done > 0 }
            stopObserving(waiter)
        }
        if let outcome = try doneOutcome() { return outcome }
        throw TimeoutError()
    }

    /// The outcome if finished, nil while pending or running.
    /// - Throws: `CancelledError` if cancelled.
    private func doneOutcome() throws -> Result<Value, any Error>? {
        let state = storage.withLock { $0.state }
        switch state {
        case .finished(let outcome): return outcome
        case .cancelled: throw CancelledError()
        case .pending, .running: return nil
        }
    }

    // MARK: Callbacks and observers

    /// Calls `callback` with this future once it is done: at once (in this
    /// thread) if it already is, otherwise in the thread that finishes it.
    /// Callbacks run in the order added, outside any lock; an error thrown by
    /// one is discarded and does not stop the others or the executor.
    public func addDoneCallback(_ callback: @escaping @Sendable (Future<Value>) throws -> Void) {
        let runNow: Bool = storage.withLock {
            if $0.state.isDone { return true }
            $0.callbacks.append(callback)
            return false
        }
        if runNow { try? callback(self) }
    }

    /// Registers `observer` unless already done; returns whether it was done
    /// and whether it failed (finished with an error).
    func observe(_ observer: any CompletionObserver) -> (done: Bool, failed: Bool) {
        storage.withLock {
            switch $0.state {
            case .finished(.failure): return (true, true)
            case .finished, .cancelled: return (true, false)
            case .pending, .running:
                $0.observers.append(observer)
                return (false, false)
            }
        }
    }

    func stopObserving(_ observer: any CompletionObserver) {
        storage.withLock { $0.observers.removeAll { $0 === observer } }
    }

    // MARK: Changing the state

    /// Cancels the future unless it is running or finished.
    /// - Returns: true if the future is now cancelled (also when it already was).
    @discardableResult
    public func cancel() -> Bool {
        let result: (cancelled: Bool, announce: Announcement?) = storage.withLock {
            switch $0.state {
            case .running, .finished: return (false, nil)
            case .cancelled: return (true, nil)
            case .pending:
                $0.state = .cancelled
                return (true, Self.takeAnnouncement(&$0))
            }
        }
        if let announce = result.announce { deliver(announce, failed: false) }
        return result.cancelled
    }

    /// Called by an executor just before running the work.
    /// - Returns: false if the future was cancelled, so the work must be skipped.
    /// - Throws: `InvalidStateError` if the future already ran.
    public func setRunningOrNotifyCancel() throws -> Bool {
        try storage.withLock {
            switch $0.state {
            case .pending:
                $0.state = .running
                return true
            case .cancelled:
                return false
            case .running, .finished:
                throw InvalidStateError("future is already \($0.state.name)")
            }
        }
    }

    /// Finishes the future with a value.
    /// - Throws: `InvalidStateError` if it is already finished or cancelled.
    public func setResult(_ value: Value) throws { try finish(.success(value)) }

    /// Finishes the future with an error.
    /// - Throws: `InvalidStateError` if it is already finished or cancelled.
    public func setException(_ error: any Error) throws { try finish(.failure(error)) }

    private typealias Announcement = (callbacks: [@Sendable (Future<Value>) throws -> Void], observers: [any CompletionObserver])

    private func finish(_ outcome: Result<Value, any Error>) throws {
        let announce: Announcement = try storage.withLock {
            switch $0.state {
            case .pending, .running: $0.state = .finished(outcome)
            case .finished, .cancelled: throw InvalidStateError("future is already \($0.state.name)")
            }
            return Self.takeAnnouncement(&$0)
        }
        if case .failure = outcome { deliver(announce, failed: true) } else { deliver(announce, failed: false) }
    }

    private static func takeAnnouncement(_ storage: inout Storage) -> Announcement {
        defer { storage.callbacks = []; storage.observers = [] }
        return (storage.callbacks, storage.observers)
    }

    /// Wakes observers (waiters), then runs callbacks; never under the lock.
    private func deliver(_ announce: Announcement, failed: Bool) {
        for observer in announce.observers { observer.futureFinished(ObjectIdentifier(self), failed: failed) }
        for callback in announce.callbacks { try? callback(self) }
    }

    /// Futures are equal only to themselves (identity).
    public static func == (a: Future, b: Future) -> Bool { a === b }
    /// Hashes the future's identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
