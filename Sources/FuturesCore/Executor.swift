// The Executor protocols: what every executor offers (a cap and shutdown),
// and submitting closures, which only executors in this process can run.

/// Runs submitted work asynchronously and hands back futures for it. What
/// the work is depends on the executor: closures (`ClosureExecutor`), or
/// task values that can also cross a process (the process-pool module's
/// `TaskExecutor`, which both pools of this package implement).
public protocol Executor: AnyObject, Sendable {
    /// The most work items this executor runs at once.
    var maxWorkers: Int { get }

    /// Stops accepting work. With `cancelFutures`, pending futures are
    /// cancelled; with `wait`, returns only after running work has finished.
    /// Calling it more than once is allowed.
    /// - Important: calling it with `wait: true` from the executor's own work deadlocks.
    func shutdown(wait: Bool, cancelFutures: Bool)
}

/// An executor that runs closures (in this process).
public protocol ClosureExecutor: Executor {
    /// Schedules `work` and returns the future of its result.
    /// - Throws: `ExecutorShutdownError` after `shutdown`; a broken-pool error
    ///   (such as `BrokenThreadPool`) once the executor can no longer run work.
    func submit<T: Sendable>(_ work: @escaping @Sendable () throws -> T) throws -> Future<T>
}

extension ClosureExecutor {
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
        var source = items.makeIterator()
        return MapIterator(deadline: Deadline.after(timeout), buffersize: mapBuffersize(buffersize)) { [self] in
            guard let item = source.next() else { return nil }
            return try submit { try transform(item) }
        }
    }
}

extension Executor {
    /// The look-ahead of `map`: `requested`, or twice `maxWorkers`.
    package func mapBuffersize(_ requested: Int?) -> Int {
        max(1, requested ?? (maxWorkers > Int.max / 4 ? 64 : 2 * maxWorkers))
    }
}
