// The errors of the executor core, with all of their message text.

/// The future was cancelled before it ran.
public struct CancelledError: Error, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "the future was cancelled" }
}

/// A timed wait ran out before the futures it waited for were done.
public struct TimeoutError: Error, Equatable, CustomStringConvertible {
    /// How many futures were still unfinished (1 for a single future).
    public let unfinished: Int
    public init(unfinished: Int = 1) { self.unfinished = unfinished }
    public var description: String {
        unfinished == 1 ? "timed out waiting for a future"
                        : "timed out: \(unfinished) futures unfinished"
    }
}

/// A state transition that the future's life cycle forbids, such as setting
/// the result of a future that is already finished.
public struct InvalidStateError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The thread pool can no longer run work: a worker's initializer failed.
public struct BrokenThreadPool: Error, Equatable, CustomStringConvertible {
    /// Why the pool broke, e.g. the initializer's error.
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { "thread pool is broken: \(reason)" }
}

/// Work was submitted to an executor after `shutdown` was called.
public struct ExecutorShutdownError: Error, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "cannot submit after shutdown" }
}
