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
    /// with the results handed back in input order (`next()`, `collect()`
    /// or `for try await`).
    ///
    /// Work starts at the call: up to `buffersize` items (default: twice
    /// `maxWorkers`) are submitted at once, and one more each time a result
    /// is taken, so an endless sequence runs in bounded memory. A result is
    /// let go of once it was returned. `timeout` counts from this call. When
    /// an item's work failed, its error is thrown as that item is reached;
    /// on that, on a timeout, or when the consumer drops the iterator, every
    /// item not yet started is cancelled, the awaited one included.
    /// `chunksize` is accepted for the process pool's sake and ignored here.
    /// - Throws: the executor's submit error, such as `ExecutorShutdownError`.
    public func map<S: Sequence, T: Sendable>(
        _ items: S, timeout: Duration? = nil, chunksize: Int = 1, buffersize: Int? = nil,
        _ transform: @escaping @Sendable (S.Element) throws -> T
    ) throws -> MapIterator<T> where S.Element: Sendable {
        var source = items.makeIterator()
        return try MapIterator(deadline: Deadline.after(timeout), buffersize: mapBuffersize(buffersize)) { [self] in
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
