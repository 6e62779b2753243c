// The Executor protocol: submit work, map over a sequence, shut down.

/// Runs submitted work asynchronously and hands back futures for it.
public protocol Executor: AnyObject, Sendable {
    /// The most work items this executor runs at once.
    var maxWorkers: Int { get }

    /// Schedules `work` and returns the future of its result.
    /// - Throws: `ExecutorShutdownError` after `shutdown`; a broken-pool error
    ///   (such as `BrokenThreadPool`) once the executor can no longer run work.
    func submit<T: Sendable>(_ work: @escaping @Sendable () throws -> T) throws -> Future<T>

    /// Stops accepting work. With `cancelFutures`, pending futures are
    /// cancelled; with `wait`, returns only after running work has finished.
    /// Calling it more than once is allowed.
    /// - Important: calling it with `wait: true` from the executor's own work deadlocks.
    func shutdown(wait: Bool, cancelFutures: Bool)
}

extension Executor {
    /// `transform` applied to every element of `items`, run on this executor,
    /// with the results handed back lazily in input order.
    ///
    /// At most `buffersize` items are submitted ahead of the consumer
    /// (default: twice `maxWorkers`), so an endless sequence runs in bounded
    /// memory. `timeout` counts from this call. When an item's work failed,
    /// its error is thrown as that item is reached; the remaining futures are
    /// then cancelled, as they are when the consumer drops the iterator early.
    /// `chunksize` is accepted for the process pool's sake and ignored here.
    public func map<S: Sequence, T: Sendable>(
        _ items: S, timeout: Duration? = nil, chunksize: Int = 1, buffersize: Int? = nil,
        _ transform: @escaping @Sendable (S.Element) throws -> T
    ) -> MapIterator<T> where S.Element: Sendable {
        let limit = max(1, buffersize ?? (maxWorkers > Int.max / 4 ? 64 : 2 * maxWorkers))
        var source = items.makeIterator()
        return MapIterator(deadline: Deadline.after(timeout), buffersize: limit) { [self] in
            guard let item = source.next() else { return nil }
            return try submit { try transform(item) }
        }
    }
}
