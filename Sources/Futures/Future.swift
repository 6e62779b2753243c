// Future: the state machine of one piece of work. Four methods change the
// state (cancel, setRunningOrNotifyCancel, setResult, setException); every
// other member only reads it. Callbacks and waiters are told outside the lock.

/// Something that wants to hear when a future finishes (used by `wait` and
/// `asCompleted`); it is told inside the future's lock and must not block.
protocol CompletionObserver: AnyObject, Sendable {
    func futureFinished(_ id: ObjectIdentifier, failed: Bool)
}

/// The eventual result of work handed to an `Executor`.
///
/// A future goes pending → running → finished, or pending → cancelled.
/// Executors drive it; users read it and may cancel it while it is pending.
/// @unchecked Sendable: all mutable state is behind `lock`.
public final class Future<Value: Sendable>: @unchecked Sendable, Hashable {
    enum State {
        case pending
        case running
        case finished(Result<Value, any Error>)
        case cancelled
    }

    private let lock = ConditionLock()
    private var state = State.pending
    private var callbacks: [@Sendable (Future<Value>) throws -> Void] = []
    private var observers: [any CompletionObserver] = []
    private var blockedReaders = 0  // threads in result()/exception(), to skip needless wakeups

    /// A new pending future; executors create these, tests may too.
    public init() {}

    // MARK: Reading the state

    /// True while the work is executing.
    public var isRunning: Bool { lock.withLock { if case .running = state { return true }; return false } }

    /// True once cancelled.
    public var isCancelled: Bool { lock.withLock { if case .cancelled = state { return true }; return false } }

    /// True once finished or cancelled.
    public var isDone: Bool { lock.withLock { isDoneLocked } }

    private var isDoneLocked: Bool {
        switch state {
        case .pending, .running: return false
        case .finished, .cancelled: return true
        }
    }

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
        let deadline = Deadline.after(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            switch state {
            case .finished(let outcome): return outcome
            case .cancelled: throw CancelledError()
            case .pending, .running:
                blockedReaders += 1
                let woken = lock.wait(until: deadline)
                blockedReaders -= 1
                if !woken && !isDoneLocked { throw TimeoutError() }
            }
        }
    }

    // MARK: Callbacks and observers

    /// Calls `callback` with this future once it is done: at once (in this
    /// thread) if it already is, otherwise in the thread that finishes it.
    /// Callbacks run in the order added, outside any lock; an error thrown by
    /// one is discarded and does not stop the others or the executor.
    public func addDoneCallback(_ callback: @escaping @Sendable (Future<Value>) throws -> Void) {
        let runNow: Bool = lock.withLock {
            if isDoneLocked { return true }
            callbacks.append(callback)
            return false
        }
        if runNow { try? callback(self) }
    }

    /// Registers `observer` unless already done; returns whether it was done
    /// and whether it failed (finished with an error).
    func observe(_ observer: any CompletionObserver) -> (done: Bool, failed: Bool) {
        lock.withLock {
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
        lock.withLock { observers.removeAll { $0 === observer } }
    }

    // MARK: Changing the state

    /// Cancels the future unless it is running or finished.
    /// - Returns: true if the future is now cancelled (also when it already was).
    @discardableResult
    public func cancel() -> Bool {
        let changed: Bool? = lock.withLock {
            switch state {
            case .running, .finished: return nil
            case .cancelled: return false
            case .pending:
                state = .cancelled
                return true
            }
        }
        guard let changed else { return false }
        if changed { announceDone(failed: false) }
        return true
    }

    /// Called by an executor just before running the work.
    /// - Returns: false if the future was cancelled, so the work must be skipped.
    /// - Throws: `InvalidStateError` if the future already ran.
    public func setRunningOrNotifyCancel() throws -> Bool {
        try lock.withLock {
            switch state {
            case .pending:
                state = .running
                return true
            case .cancelled:
                return false
            case .running, .finished:
                throw InvalidStateError("future is already \(stateName)")
            }
        }
    }

    /// Finishes the future with a value.
    /// - Throws: `InvalidStateError` if it is already finished or cancelled.
    public func setResult(_ value: Value) throws { try finish(.success(value)) }

    /// Finishes the future with an error.
    /// - Throws: `InvalidStateError` if it is already finished or cancelled.
    public func setException(_ error: any Error) throws { try finish(.failure(error)) }

    private func finish(_ outcome: Result<Value, any Error>) throws {
        try lock.withLock {
            switch state {
            case .pending, .running: state = .finished(outcome)
            case .finished, .cancelled: throw InvalidStateError("future is already \(stateName)")
            }
        }
        if case .failure = outcome { announceDone(failed: true) } else { announceDone(failed: false) }
    }

    private var stateName: String {
        switch state {
        case .pending: "pending"
        case .running: "running"
        case .finished: "finished"
        case .cancelled: "cancelled"
        }
    }

    /// Wakes waiters and observers, then runs callbacks outside the lock.
    private func announceDone(failed: Bool) {
        let toRun: [@Sendable (Future<Value>) throws -> Void] = lock.withLock {
            if blockedReaders > 0 { lock.broadcast() }
            for observer in observers { observer.futureFinished(ObjectIdentifier(self), failed: failed) }
            observers.removeAll()
            defer { callbacks.removeAll() }
            return callbacks
        }
        for callback in toRun { try? callback(self) }
    }

    public static func == (a: Future, b: Future) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
