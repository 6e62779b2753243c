// The errors of the executor core, with all of their message text.

/// The future was cancelled before it ran.
public struct CancelledError: Error, Equatable, CustomStringConvertible {
    /// The error, with nothing to say beyond its type.
    public init() {}
    /// "the future was cancelled".
    public var description: String { "the future was cancelled" }
}

/// A timed wait ran out before the futures it waited for were done.
public struct TimeoutError: Error, Equatable, CustomStringConvertible {
    /// How many futures were still unfinished (1 for a single future).
    public let unfinished: Int
    /// - Parameter unfinished: futures still unfinished when time ran out.
    public init(unfinished: Int = 1) { self.unfinished = unfinished }
    /// Says how many futures were unfinished.
    public var description: String {
        unfinished == 1 ? "timed out waiting for a future"
                        : "timed out: \(unfinished) futures unfinished"
    }
}

/// A state transition that the future's life cycle forbids, such as setting
/// the result of a future that is already finished.
public struct InvalidStateError: Error, Equatable, CustomStringConvertible {
    /// Which transition was refused and why.
    public let description: String
    /// - Parameter description: which transition was refused and why.
    public init(_ description: String) { self.description = description }
}

/// The thread pool can no longer run work: a worker's initializer failed.
public struct BrokenThreadPool: Error, Equatable, CustomStringConvertible {
    /// Why the pool broke, e.g. the initializer's error.
    public let reason: String
    /// - Parameter reason: why the pool broke.
    public init(reason: String) { self.reason = reason }
    /// "thread pool is broken: " and the reason.
    public var description: String { "thread pool is broken: \(reason)" }
}

/// Work was submitted to an executor after `shutdown` was called.
public struct ExecutorShutdownError: Error, Equatable, CustomStringConvertible {
    /// The error, with nothing to say beyond its type.
    public init() {}
    /// "cannot submit after shutdown".
    public var description: String { "cannot submit after shutdown" }
}
