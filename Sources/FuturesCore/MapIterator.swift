// The lazy, ordered, bounded result stream of `Executor.map`.

/// Results of `Executor.map` in input order. Call `next()` until it returns
/// nil; it throws the first failing item's error or `TimeoutError`.
/// Dropping the iterator cancels the work not yet started.
public final class MapIterator<T: Sendable> {
    private let deadline: Deadline?
    private let buffersize: Int
    private let submitNext: () throws -> Future<T>?
    private var outstanding: [Future<T>] = []
    private var head = 0
    private var exhausted = false
    private var failed = false

    package init(deadline: Deadline?, buffersize: Int, submitNext: @escaping () throws -> Future<T>?) {
        self.deadline = deadline
        self.buffersize = buffersize
        self.submitNext = submitNext
    }

    deinit { cancelRemaining() }

    /// The next result in input order, or nil when all were returned.
    /// - Throws: the item's own error, `TimeoutError`, or the executor's
    ///   submit error; after a throw the remaining work is cancelled and
    ///   `next()` returns nil.
    public func next() throws -> T? {
        if failed { return nil }
        do {
            try refill()
            guard head < outstanding.count else { return nil }
            let future = outstanding[head]
            head += 1
            if head > 64 && head * 2 > outstanding.count {
                outstanding.removeFirst(head)
                head = 0
            }
            let remaining = deadline.map { max(Duration.zero, $0.remaining) }
            let value = try future.result(timeout: remaining)
            try refill()
            return value
        } catch {
            failed = true
            cancelRemaining()
            throw error
        }
    }

    /// All remaining results, in order.
    /// - Throws: as `next()`.
    public func collect() throws -> [T] {
        var values: [T] = []
        while let value = try next() { values.append(value) }
        return values
    }

    private func refill() throws {
        while !exhausted && outstanding.count - head < buffersize {
            guard let future = try submitNext() else { exhausted = true; return }
            outstanding.append(future)
        }
    }

    private func cancelRemaining() {
        for future in outstanding[head...] { future.cancel() }
        outstanding.removeAll()
        head = 0
        exhausted = true
    }
}
