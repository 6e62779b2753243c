// Tasks shared by the process-pool tests and the worker program they start.
import Futures
#if canImport(Glibc)
import Glibc
#endif

public struct Square: ProcessTask {
    public let n: Int
    public init(_ n: Int) { self.n = n }
    public func run() throws -> Int { n * n }
}

public struct Fail: ProcessTask {
    public struct Refused: Error, CustomStringConvertible {
        let why: String
        public var description: String { why }
    }
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
public let allTasks: [any ProcessTask.Type] = [Square.self, Fail.self, Crash.self, WorkerPID.self, WorkTask.self]

/// A unit of work described as data, so the same conformance test can run it
/// on a thread (by calling `perform`) or in a worker process (as `WorkTask`).
/// Steps synchronise through files, which both kinds of worker can see.
public enum Work: Codable, Sendable {
    /// Returns n.
    case value(Int)
    /// Throws `Fail.Refused` with the code.
    case fail(Int)
    /// Appends "start n" to `log`, writes its pid to `create`, waits until `waitFor`
    /// exists, appends "end n", and returns n (each part optional).
    case step(Int, log: String?, create: String?, waitFor: String?)

    public func perform() throws -> Int {
        switch self {
        case .value(let n): return n
        case .fail(let code): throw Fail.Refused(why: "code \(code)")
        case .step(let n, let log, let create, let waitFor):
            if let log { append("start \(n)\n", to: log) }
            if let create { append("\(getpid())\n", to: create) }
            if let waitFor { while access(waitFor, F_OK) != 0 { usleep(2000) } }
            if let log { append("end \(n)\n", to: log) }
            return n
        }
    }

    private func append(_ line: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        _ = Array(line.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

/// `Work` as a process-pool task.
public struct WorkTask: ProcessTask {
    public let work: Work
    public init(_ work: Work) { self.work = work }
    public func run() throws -> Int { try work.perform() }
}
