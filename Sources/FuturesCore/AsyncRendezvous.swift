// Awaiting something that finishes in another thread, from Swift
// concurrency: the first of its completion, a deadline or the awaiting
// task's cancellation wins; the others are ignored.

/// One async wait resolved exactly once: by `resolve`, by its deadline
/// (`TimeoutError`), or by the awaiting task's cancellation
/// (`CancellationError`, after which `onCancel` runs, in the cancelling thread).
/// @unchecked Sendable: all mutable state is behind `lock`.
final class AsyncRendezvous<Value: Sendable>: @unchecked Sendable {
    private let lock = ConditionLock()
    private var continuation: CheckedContinuation<Value, any Error>?
    private var outcome: Result<Value, any Error>?
    private var timer: Task<Void, Never>?

    /// Resolves the wait; later calls do nothing.
    func resolve(_ result: Result<Value, any Error>) {
        let waiting: CheckedContinuation<Value, any Error>? = lock.withLock {
            if outcome != nil { return nil }
            outcome = result
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume(with: result)
    }

    /// Waits for `resolve`, the deadline (`timeout()` gives the error) or
    /// cancellation, whichever comes first.
    func wait(deadline: Deadline?, timeout: @escaping @Sendable () -> any Error = { TimeoutError() },
              onCancel: @escaping @Sendable () -> Void) async throws -> Value {
        if let deadline, !isResolved {
            let timer = Task { [self] in
                // A cancelled sleep ends early; only a sleep that ran out resolves.
                if (try? await Task.sleep(for: max(.zero, deadline.remaining))) != nil { resolve(.failure(timeout())) }
            }
            lock.withLock { self.timer = timer }
        }
        defer { lock.withLock { timer }?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiting: CheckedContinuation<Value, any Error>) in
                let ready: Result<Value, any Error>? = lock.withLock {
                    if outcome == nil { continuation = waiting }
                    return outcome
                }
                if let ready { waiting.resume(with: ready) }
            }
        } onCancel: {
            resolve(.failure(CancellationError()))
            onCancel()
        }
    }

    private var isResolved: Bool { lock.withLock { outcome != nil } }
}

extension Future {
    /// The work's value, awaited without blocking a thread, until `deadline`
    /// (nil: no limit). The awaiting task's cancellation cancels the future
    /// if it is still pending and throws `CancellationError`.
    package func value(until deadline: Deadline?) async throws -> Value {
        if isDone { return try result(timeout: .zero) }
        let rendezvous = AsyncRendezvous<Value>()
        addCallback { [self] in rendezvous.resolve(Result { try result(timeout: .zero) }) }
        do {
            return try await rendezvous.wait(deadline: deadline, onCancel: {})
        } catch is CancellationError {
            // Cancelled here, after the wait, not in the cancelling thread:
            // the future's callbacks must not run inside `Task.cancel()`.
            cancel()
            throw CancellationError()
        }
    }
}
