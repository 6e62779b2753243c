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
/// done first), each once. `next()` throws `TimeoutError` naming how many are
/// unfinished once `timeout`, counted from this call, has passed.
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
        if let future = ready.popLast() { return future }
        if byID.isEmpty { return nil }
        let finished = observer.takeFinished(deadline: deadline)
        if finished.isEmpty { throw TimeoutError(unfinished: byID.count) }
        for id in finished { if let future = byID.removeValue(forKey: id) { ready.append(future) } }
        return try next()
    }

    /// Every future in completion order.
    /// - Throws: as `next()`.
    public func collect() throws -> [Future<T>] {
        var all: [Future<T>] = []
        while let future = try next() { all.append(future) }
        return all
    }
}

/// Collects finish notices from futures and lets one thread wait for them.
/// @unchecked Sendable: its state is behind `lock`.
final class CompletionCounter: CompletionObserver, @unchecked Sendable {
    private let lock = ConditionLock()
    private var finished: [ObjectIdentifier] = []
    private var doneCount = 0
    private var anyFailed = false

    func futureFinished(_ id: ObjectIdentifier, failed: Bool) {
        lock.withLock {
            finished.append(id)
            doneCount += 1
            if failed { anyFailed = true }
            lock.broadcast()
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
