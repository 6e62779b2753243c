// Tasks shared by the process-pool tests and the worker program they start.
import FuturesProcessPool
#if canImport(Glibc)
import Glibc
#endif

public struct Square: ProcessTask {
    public let n: Int
    public init(_ n: Int) { self.n = n }
    public func run() throws -> Int { n * n }
}

public struct Fail: ProcessTask {
    public struct Refused: Error, CustomStringConvertible { let why: String; public var description: String { why } }
    public let message: String
    public init(_ message: String) { self.message = message }
    public func run() throws -> Int { throw Refused(why: message) }
}

/// Kills its own worker, as a crash would.
public struct Crash: ProcessTask {
    public init() {}
    public func run() throws -> Int { kill(getpid(), SIGKILL); return 0 }
}

/// Answers the worker's pid, after an optional pause.
public struct WorkerPID: ProcessTask {
    public let pauseMilliseconds: Int
    public init(pauseMilliseconds: Int = 0) { self.pauseMilliseconds = pauseMilliseconds }
    public func run() throws -> Int32 {
        if pauseMilliseconds > 0 { usleep(UInt32(pauseMilliseconds * 1000)) }
        return getpid()
    }
}

/// Every task the worker program serves.
public let allTasks: [any ProcessTask.Type] = [Square.self, Fail.self, Crash.self, WorkerPID.self]
