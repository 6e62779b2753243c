// Work that can cross a process boundary, the Codable way: a ProcessTask
// is a PoolTask whose value and output travel as JSON. The host program
// registers its task types and serves them when started as a worker.
import Foundation
import ProcessPool

/// A unit of work that a `ProcessPoolExecutor` runs in a worker process
/// (or a `ThreadPoolExecutor` in a thread), encoded as JSON.
///
/// The host program serves its task types first thing in `main`, with
/// `ProcessPoolExecutor.serveIfWorker`.
public protocol ProcessTask: PoolTask, Codable where Output == Value {
    /// What the task returns (its `Output`); it travels back as JSON.
    associatedtype Value: Codable & Sendable
    /// Does the work.
    /// - Throws: any error; the caller's future fails with it (with
    ///   `RemoteTaskError` when it ran in a worker process).
    func run() throws -> Value
}

extension ProcessTask {
    /// Runs `run()`.
    public func run(in context: any TaskContext) throws -> Value { try run() }

    /// The task as JSON.
    public func encoded() -> [UInt8] { (try? Array(JSONEncoder().encode(self))) ?? [] }

    /// The task from JSON.
    public init(decoding bytes: [UInt8]) throws { self = try JSONDecoder().decode(Self.self, from: Data(bytes)) }

    /// The output as JSON.
    public static func encode(output: Value) -> [UInt8] { (try? Array(JSONEncoder().encode(output))) ?? [] }

    /// The output from JSON.
    public static func decodeOutput(_ bytes: [UInt8]) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(bytes))
    }
}

extension ProcessPoolExecutor {
    /// A pool whose workers are `executable` (default: this program), which
    /// must call `serveIfWorker` first thing in `main`.
    public convenience init(maxWorkers: Int? = nil, executable: URL?, slotsPerWorker: Int = 1,
                            maxTasksPerChild: Int? = nil, heartbeat: Heartbeat = Heartbeat()) {
        let launcher = executable.map { WorkerLauncher.local(executable: Array($0.path.utf8)) }
        self.init(maxWorkers: maxWorkers, slotsPerWorker: slotsPerWorker, launcher: launcher,
                  maxTasksPerChild: maxTasksPerChild, heartbeat: heartbeat)
    }

    /// Call first thing in the host program's `main`: when the program was
    /// started as a worker (its first argument is `WorkerServer.argument`),
    /// it serves `tasks` (plus the built-in `CommandTask` and `CopyTask`)
    /// and exits; otherwise it returns at once.
    public static func serveIfWorker(_ tasks: [any PoolTask.Type]) {
        guard CommandLine.arguments.dropFirst().first == WorkerServer.argument else { return }
        exit(WorkerServer.serve(tasks: [CommandTask.self, CopyTask.self] + tasks))
    }
}
