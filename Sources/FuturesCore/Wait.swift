// wait() and asCompleted(): block on many futures at once through one
// observer object installed on each, never by polling.

/// When `wait` returns.
public enum ReturnWhen: Sendable {
    /// As soon as any future finishes or is cancelled.
    case firstCompleted
    /// As soon as any future finishes with an error; like `allCompleted` if none does.
    case firstException
    /// When every future is done.
    case allCompleted
}

/// The futures that were done, and those that were not, when `wait` returned.
public struct WaitResult<T: Sendable> {
    /// Futures finished or cancelled when `wait` returned.
    public let done: Set<Future<T>>
    /// Futures still pending or running when `wait` returned.
    public let notDone: Set<Future<T>>
}

/// Waits until `returnWhen` holds for `futures` or `timeout` passes
/// (nil: no limit). A timeout is not an error: check `notDone`.
public func wait<T>(_ futures: [Future<T>], timeout: Duration? = nil,
                    returnWhen: ReturnWhen = .allCompleted) -> WaitResult<T> {
    let unique = Array(Set(futures))
    let observer = CompletionCounter()
    var alreadyDone = 0
    var alreadyFailed = false
    for future in unique {
        let (done, failed) = future.observe(observer)
        if done { alreadyDone += 1 }
        if failed { alreadyFailed = true }
    }
    observer.wait(deadline: Deadline.after(timeout)) { done, failed in
        let total = alreadyDone + done
        switch returnWhen {
        case .firstCompleted: return total > 0 || unique.isEmpty
        case .firstException: return alreadyFailed || failed || total == unique.count
        case .allCompleted: return total == unique.count
        }
    }
    for future in unique { future.stopObserving(observer) }
    var done = Set<Future<T>>(), notDone = Set<Future<T>>()
    for future in unique {
        if future.isDone { done.insert(future) } else { notDone.insert(future) }
    }
    return WaitResult(done: done, notDone: notDone)
}

/// The futures of `futures` one at a time as each finishes (those already
/// done first), each once: with `next()`, `collect()` or `for try await`.
/// They throw `TimeoutError` naming how many are unfinished once `timeout`,
/// counted from this call, has passed; unlike `map`, nothing is cancelled.
public func asCompleted<T>(_ futures: [Future<T>], timeout: Duration? = nil) -> AsCompletedIterator<T> {
    AsCompletedIterator(futures, deadline: Deadline.after(timeout))
}

/// The iterator returned by `asCompleted`.
public final class AsCompletedIterator<T: Sendable> {
    private let deadline: Deadline?
    private let observer = CompletionCounter()
    private var byID: [ObjectIdentifier: Future<T>] = [:]
    private var ready: [Future<T>] = []

    init(_ futures: [Future<T>], deadline: Deadline?) {
        self.deadline = deadline
        for future in Set(futures) {
            if future.observe(observer).done { ready.append(future) } else { byID[ObjectIdentifier(future)] = future }
        }
    }

    deinit { for future in byID.values { future.stopObserving(observer) } }

    /// The next future to finish, or nil when every future was returned.
    /// - Throws: `TimeoutError` once the timeout has passed.
    public func next() throws -> Future<T>? {
        while ready.isEmpty && !byID.isEmpty {
            let finished = observer.takeFinished(deadline: deadline)
            if finished.isEmpty { throw TimeoutError(unfinished: byID.count) }
            moveToReady(finished)
        }
        return ready.popLast()
    }

    /// The next future to finish, awaited without blocking a thread: the
    /// async twin of `next()` with the same rules; a cancelled task gets
    /// `CancellationError` (the futures themselves are left alone).
    public func nextAsync(isolation actor: isolated (any Actor)? = #isolation) async throws -> Future<T>? {
        while ready.isEmpty && !byID.isEmpty {
            moveToReady(try await observer.takeFinished(deadline: deadline, unfinished: byID.count))
        }
        return ready.popLast()
    }

    private func moveToReady(_ finished: [ObjectIdentifier]) {
        for id in finished { if let future = byID.removeValue(forKey: id) { ready.append(future) } }
    }

    /// Every future in completion order.
    /// - Throws: as `next()`.
    public func collect() throws -> [Future<T>] {
        var all: [Future<T>] = []
        while let future = try next() { all.append(future) }
        return all
    }
}

extension AsCompletedIterator: AsyncSequence {
    /// The futures, awaited in completion order.
    public typealias Element = Future<T>
    /// What iterating can throw: `TimeoutError` or `CancellationError`.
    public typealias Failure = any Error

    /// Iterates these futures (once: it shares the iterator's state).
    public func makeAsyncIterator() -> AsyncFutures { AsyncFutures(base: self) }

    /// The async iterator of `AsCompletedIterator`.
    public struct AsyncFutures: AsyncIteratorProtocol {
        let base: AsCompletedIterator<T>

        /// As `nextAsync()`.
        public mutating func next() async throws -> Future<T>? { try await base.nextAsync(isolation: nil) }

        /// As `nextAsync()`, run on the caller's actor.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> Future<T>? {
            try await base.nextAsync(isolation: actor)
        }
    }
}

/// Collects finish notices from futures and lets one thread (or one task)
/// wait for them.
/// @unchecked Sendable: its state is behind `lock`.
final class CompletionCounter: CompletionObserver, @unchecked Sendable {
    private let lock = ConditionLock()
    private var finished: [ObjectIdentifier] = []
    private var doneCount = 0
    private var anyFailed = false
    private var wakeup: AsyncRendezvous<Void>?  // a task awaiting the next notice

    func futureFinished(_ id: ObjectIdentifier, failed: Bool) {
        let waiting: AsyncRendezvous<Void>? = lock.withLock {
            finished.append(id)
            doneCount += 1
            if failed { anyFailed = true }
            lock.broadcast()
            defer { wakeup = nil }
            return wakeup
        }
        waiting?.resolve(.success(()))
    }

    /// Awaits at least one notice and takes all there are.
    /// - Throws: `TimeoutError(unfinished:)` at the deadline; `CancellationError`.
    func takeFinished(deadline: Deadline?, unfinished: Int) async throws -> [ObjectIdentifier] {
        while true {
            let rendezvous = AsyncRendezvous<Void>()
            let taken: [ObjectIdentifier]? = lock.withLock {
                if finished.isEmpty { wakeup = rendezvous; return nil }
                defer { finished.removeAll() }
                return finished
            }
            if let taken { return taken }
            do {
                try await rendezvous.wait(deadline: deadline, timeout: { TimeoutError(unfinished: unfinished) },
                                          onCancel: {})
            } catch {
                lock.withLock { if wakeup === rendezvous { wakeup = nil } }
                throw error
            }
        }
    }

    /// Blocks until `satisfied(doneCount, anyFailed)` or the deadline.
    func wait(deadline: Deadline?, until satisfied: (Int, Bool) -> Bool) {
        lock.withLock {
            while !satisfied(doneCount, anyFailed) {
                if !lock.wait(until: deadline) { return }
            }
        }
    }

    /// Waits for at least one notice (or the deadline) and takes all there are.
    func takeFinished(deadline: Deadline?) -> [ObjectIdentifier] {
        lock.withLock {
            while finished.isEmpty {
                if !lock.wait(until: deadline) { break }
            }
            defer { finished.removeAll() }
            return finished
        }
    }
}
