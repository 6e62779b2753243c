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

/// The part of every future that does not depend on its value's type: the
/// state, cancellation, callbacks and waiters. `Future<Value>` adds the typed
/// value. Keeping this part non-generic keeps generic-metadata look-ups off
/// the hot path of programs that use the library.
/// @unchecked Sendable: all mutable state is behind its shared mutex.
public class AnyFuture: @unchecked Sendable, Hashable {
    enum State {
        case pending
        case running
        case finished(Result<any Sendable, any Error>)
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

    // Every critical section of a future is a few instructions and never
    // takes another future's lock, so futures share a fixed set of pthread
    // mutexes (picked by address) instead of each allocating, initialising
    // and destroying its own: that was a third of a no-op submit's
    // allocations. A thread that has to block waits on a small observer
    // object made only then, so a future needs no condition variable.
    // Only under the future's mutex (so exclusivity checks cannot fire).
    @exclusivity(unchecked) private var state = State.pending
    @exclusivity(unchecked) private var callbacks: [@Sendable () -> Void] = []
    @exclusivity(unchecked) private var observers: [any CompletionObserver] = []

    init() {}

    private func locked<R>(_ body: () throws -> R) rethrows -> R {
        let mutex = FutureLocks.mutex(for: self)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    // MARK: Reading the state

    /// True while the work is executing.
    public var isRunning: Bool { locked { if case .running = state { return true }; return false } }

    /// True once cancelled.
    public var isCancelled: Bool { locked { if case .cancelled = state { return true }; return false } }

    /// True once finished or cancelled.
    public var isDone: Bool { locked { state.isDone } }

    /// The outcome, waiting up to `timeout` for it.
    /// - Throws: `CancelledError` if cancelled; `TimeoutError` if not done in time.
    @usableFromInline func waitForOutcome(_ timeout: Duration?) throws -> Result<any Sendable, any Error> {
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
    private func doneOutcome() throws -> Result<any Sendable, any Error>? {
        switch locked({ state }) {
        case .finished(let outcome): return outcome
        case .cancelled: throw CancelledError()
        case .pending, .running: return nil
        }
    }

    /// The work's error, or nil if it succeeded, waiting up to `timeout`.
    /// - Throws: `CancelledError` if cancelled; `TimeoutError` if not done in time.
    public func exception(timeout: Duration? = nil) throws -> (any Error)? {
        if case .failure(let error) = try waitForOutcome(timeout) { return error }
        return nil
    }

    // MARK: Callbacks and observers

    /// Runs `callback` once done: now if already done, else in the finishing thread.
    func addCallback(_ callback: @escaping @Sendable () -> Void) {
        let runNow: Bool = locked {
            if state.isDone { return true }
            callbacks.append(callback)
            return false
        }
        if runNow { callback() }
    }

    /// Registers `observer` unless already done; returns whether it was done
    /// and whether it failed (finished with an error).
    func observe(_ observer: any CompletionObserver) -> (done: Bool, failed: Bool) {
        locked {
            switch state {
            case .finished(.failure): return (true, true)
            case .finished, .cancelled: return (true, false)
            case .pending, .running:
                observers.append(observer)
                return (false, false)
            }
        }
    }

    func stopObserving(_ observer: any CompletionObserver) {
        locked { observers.removeAll { $0 === observer } }
    }

    // MARK: Changing the state

    /// Cancels the future unless it is running or finished.
    /// - Returns: true if the future is now cancelled (also when it already was).
    @discardableResult
    public func cancel() -> Bool {
        let result: (cancelled: Bool, announce: Announcement?) = locked {
            switch state {
            case .running, .finished: return (false, nil)
            case .cancelled: return (true, nil)
            case .pending:
                state = .cancelled
                return (true, takeAnnouncementLocked())
            }
        }
        if let announce = result.announce { deliver(announce, failed: false) }
        return result.cancelled
    }

    /// Called by an executor just before running the work.
    /// - Returns: false if the future was cancelled, so the work must be skipped.
    /// - Throws: `InvalidStateError` if the future already ran.
    public func setRunningOrNotifyCancel() throws -> Bool {
        try locked {
            switch state {
            case .pending:
                state = .running
                return true
            case .cancelled:
                return false
            case .running, .finished:
                throw InvalidStateError("future is already \(state.name)")
            }
        }
    }

    /// Finishes the future with an error.
    /// - Throws: `InvalidStateError` if it is already finished or cancelled.
    public func setException(_ error: any Error) throws { try finish(.failure(error)) }

    private typealias Announcement = (callbacks: [@Sendable () -> Void], observers: [any CompletionObserver])

    /// Finishes the future with `outcome` (for executors of this package).
    /// - Throws: `InvalidStateError` if it is already finished or cancelled.
    package func finish(_ outcome: Result<any Sendable, any Error>) throws {
        let announce: Announcement = try locked {
            switch state {
            case .pending, .running: state = .finished(outcome)
            case .finished, .cancelled: throw InvalidStateError("future is already \(state.name)")
            }
            return takeAnnouncementLocked()
        }
        if case .failure = outcome { deliver(announce, failed: true) } else { deliver(announce, failed: false) }
    }

    private func takeAnnouncementLocked() -> Announcement {
        defer { callbacks = []; observers = [] }
        return (callbacks, observers)
    }

    /// Wakes observers (waiters), then runs callbacks; never under the lock.
    private func deliver(_ announce: Announcement, failed: Bool) {
        for observer in announce.observers { observer.futureFinished(ObjectIdentifier(self), failed: failed) }
        for callback in announce.callbacks { callback() }
    }

    /// Futures are equal only to themselves (identity).
    public static func == (a: AnyFuture, b: AnyFuture) -> Bool { a === b }
    /// Hashes the future's identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// The eventual result of work handed to an `Executor`.
///
/// A future goes pending → running → finished, or pending → cancelled.
/// Executors drive it; users read it and may cancel it while it is pending.
public final class Future<Value: Sendable>: AnyFuture, @unchecked Sendable {
    /// A new pending future; executors create these, tests may too.
    public override init() { super.init() }

    /// The work's value, waiting up to `timeout` (nil: forever) for it.
    /// - Throws: the work's own error; `CancelledError` if cancelled;
    ///   `TimeoutError` if not done in time.
    @inlinable  // specialised where it is called: the value's cast is then a known type's
    public func result(timeout: Duration? = nil) throws -> Value {
        switch try waitForOutcome(timeout) {
        case .success(let value): return value as! Value  // only setResult(Value) stores one
        case .failure(let error): throw error
        }
    }

    /// The work's value, awaited from Swift concurrency without blocking a thread.
    ///
    /// When the awaiting task is cancelled, the future is cancelled too if
    /// it is still pending (so the work never runs), and `CancellationError`
    /// is thrown at once; work already running goes on, unawaited.
    /// - Throws: as `result(timeout:)` without a timeout, or `CancellationError`.
    public var value: Value {
        get async throws { try await value(until: nil) }
    }

    /// The work's value, awaited for at most `timeout` (nil: no limit); as
    /// `value`, and `TimeoutError` when the time is up (the future is left as it is).
    public func value(timeout: Duration?) async throws -> Value {
        try await value(until: Deadline.after(timeout))
    }

    /// Calls `callback` with this future once it is done: at once (in this
    /// thread) if it already is, otherwise in the thread that finishes it.
    /// Callbacks run in the order added, outside any lock; an error thrown by
    /// one is discarded and does not stop the others or the executor.
    public func addDoneCallback(_ callback: @escaping @Sendable (Future<Value>) throws -> Void) {
        addCallback { [self] in try? callback(self) }
    }

    /// Finishes the future with a value.
    /// - Throws: `InvalidStateError` if it is already finished or cancelled.
    public func setResult(_ value: Value) throws { try finish(.success(value)) }
}

/// The mutexes futures share: a power of two of them, made once and never freed.
private enum FutureLocks {
    static let count = 64
    nonisolated(unsafe) static let mutexes: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutexes = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: count)
        for i in 0..<count { pthread_mutex_init(mutexes + i, nil) }
        return mutexes
    }()

    static func mutex(for future: AnyFuture) -> UnsafeMutablePointer<pthread_mutex_t> {
        // Objects are 16-byte aligned and a future spans several such units:
        // the low bits say little.
        let address = UInt(bitPattern: ObjectIdentifier(future))
        return mutexes + Int((address >> 6 ^ address >> 12) & UInt(count - 1))
    }
}
