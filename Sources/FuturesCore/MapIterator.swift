// The ordered, bounded result stream of `Executor.map`: work starts at the
// call, results are handed out in input order and let go of once returned.

/// Results of `Executor.map` in input order. Call `next()` until it returns
/// nil, or iterate with `for try await` (it is also an `AsyncSequence`).
///
/// Up to `buffersize` items are submitted when `map` is called, so the work
/// overlaps whatever the caller does before the first `next()`; each result
/// taken moves the window on by one. The iterator keeps no result it has
/// handed out. When an item fails, times out or the awaiting task is
/// cancelled, every item not yet started is cancelled, the awaited one
/// included, and the iterator ends; dropping it cancels them too.
public final class MapIterator<T: Sendable> {
    private let deadline: Deadline?
    private let buffersize: Int
    private let submitNext: () throws -> Future<T>?
    // Submitted futures from `head` on; a returned one is set to nil at
    // once, so its value is freed, and the spent prefix is dropped now and then.
    private var window: [Future<T>?] = []
    private var head = 0
    private var exhausted = false
    private var finished = false

    /// Submits up to `buffersize` items at once.
    /// - Throws: the executor's submit error (for example after `shutdown`).
    package init(deadline: Deadline?, buffersize: Int, submitNext: @escaping () throws -> Future<T>?) throws {
        self.deadline = deadline
        self.buffersize = buffersize
        self.submitNext = submitNext
        do { try refill() } catch { cancelRemaining(); throw error }
    }

    deinit { cancelRemaining() }

    /// The next result in input order, or nil when all were returned.
    /// - Throws: the item's own error, `TimeoutError`, or the executor's
    ///   submit error; after a throw the remaining work is cancelled and
    ///   `next()` returns nil.
    public func next() throws -> T? {
        guard let future = try nextFuture() else { return nil }
        do {
            let value = try future.result(timeout: deadline.map { Swift.max(Duration.zero, $0.remaining) })
            try advance()
            return value
        } catch { fail(); throw error }
    }

    /// The next result, awaited without blocking a thread: the async twin
    /// of `next()` with the same rules; a cancelled task gets
    /// `CancellationError`, and the rest is cancelled.
    public func nextAsync(isolation actor: isolated (any Actor)? = #isolation) async throws -> T? {
        guard let future = try nextFuture() else { return nil }
        do {
            let value = try await future.value(until: deadline)
            try advance()
            return value
        } catch { fail(); throw error }
    }

    /// All remaining results, in order.
    /// - Throws: as `next()`.
    public func collect() throws -> [T] {
        var values: [T] = []
        while let value = try next() { values.append(value) }
        return values
    }

    /// The future at the head of the window, still held (so a failure cancels it too).
    private func nextFuture() throws -> Future<T>? {
        if finished { return nil }
        if head == window.count {
            do { try refill() } catch { fail(); throw error }
            if head == window.count { finished = true; return nil }
        }
        return window[head]
    }

    /// Lets go of the returned head and submits the next item.
    private func advance() throws {
        window[head] = nil  // its value is freed now, whatever the storage does
        head += 1
        dropTakenPrefix(&window, head: &head)
        try refill()
    }

    private func refill() throws {
        while !exhausted && window.count - head < buffersize {
            guard let future = try submitNext() else { exhausted = true; return }
            window.append(future)
        }
    }

    private func fail() {
        finished = true
        cancelRemaining()
    }

    private func cancelRemaining() {
        for future in window[head...] { future?.cancel() }
        window.removeAll()
        head = 0
        exhausted = true
    }
}

extension MapIterator: AsyncSequence {
    /// The results, awaited in input order.
    public typealias Element = T
    /// What iterating can throw: as `next()`, or `CancellationError`.
    public typealias Failure = any Error

    /// Iterates this map's results (once: it shares the iterator's state).
    public func makeAsyncIterator() -> AsyncResults { AsyncResults(base: self) }

    /// The async iterator of `MapIterator`.
    public struct AsyncResults: AsyncIteratorProtocol {
        let base: MapIterator<T>

        /// As `nextAsync()`.
        public mutating func next() async throws -> T? { try await base.nextAsync(isolation: nil) }

        /// As `nextAsync()`, run on the caller's actor.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> T? {
            try await base.nextAsync(isolation: actor)
        }
    }
}
