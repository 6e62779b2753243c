// The work items every ProcessPoolExecutor worker of a Futures program
// serves without being told: running a command and copying a file. Both
// are pfutures' own job runner (Jobs), so the library and the CLI share
// one spawner and one copier.
import Foundation
import Jobs
import ProcessPool

/// Runs a program with arguments (no shell) and returns its exit status
/// and output.
public struct CommandTask: ProcessTask {
    /// What came back from the command.
    public struct Output: Codable, Sendable, Equatable {
        /// The exit status, or 128 + the signal that ended it.
        public var status: Int32
        public var stdout: Data
        public var stderr: Data

        public init(status: Int32, stdout: Data, stderr: Data) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// The program (a path, or a name looked up on PATH) and its arguments.
    public var argv: [String]

    public init(_ argv: [String]) { self.argv = argv }

    /// Runs the command in this thread.
    public func run() throws -> Output { try run(in: StandaloneContext()) }

    /// Runs the command as a job of the pool, its output collected.
    public func run(in context: any TaskContext) throws -> Output {
        guard !argv.isEmpty else { throw TaskFailure("empty command") }
        let collector = Collector(context)
        let job = Job(sequence: 0, action: .process(.exec(argv: argv.map { Array($0.utf8) })), settings: JobSettings())
        let result = job.attempt(in: collector)
        let status: Int32
        switch result.outcome {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        case .timedOut: status = 128 + SIGTERM
        case .spawnFailed, .lost: throw TaskFailure(String(decoding: result.message ?? [], as: UTF8.self))
        }
        return Output(status: status, stdout: Data(collector.stdout), stderr: Data(collector.stderr))
    }
}

/// Copies a file's contents and permission bits (shutil.copy) through a
/// temporary file renamed into place. A destination that is a directory
/// receives the file under its own name. Returns the bytes copied.
public struct CopyTask: ProcessTask {
    public var source: String
    public var destination: String

    public init(_ source: String, to destination: String) {
        self.source = source
        self.destination = destination
    }

    /// Copies in this thread.
    public func run() throws -> Int { try run(in: StandaloneContext()) }

    /// Copies as `pfutures copy` does.
    public func run(in context: any TaskContext) throws -> Int {
        let job = Job(sequence: 0, action: .copy(source: Array(source.utf8), destination: Array(destination.utf8)),
                      settings: JobSettings())
        let result = job.attempt(in: context)
        guard result.outcome == .exited(0) else {
            throw TaskFailure(String(decoding: result.message ?? Array("copy failed".utf8), as: UTF8.self))
        }
        return result.bytesCopied
    }
}

/// An error text from a built-in task.
public struct TaskFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Keeps a command's output for `CommandTask`, passing the rest of the
/// context through.
private final class Collector: TaskContext {
    private let inner: any TaskContext
    private(set) var stdout: [UInt8] = []
    private(set) var stderr: [UInt8] = []
    init(_ inner: any TaskContext) { self.inner = inner }
    var slot: Int { inner.slot }
    var stopSwitch: StopSwitch { inner.stopSwitch }
    /// Output is collected, never written straight through.
    var sharesSubmittersOutput: Bool { false }
    func started(pid: Int32?) { inner.started(pid: pid) }
    func output(_ bytes: UnsafeRawBufferPointer, stream: TaskStream) {
        if stream == .stdout { stdout += bytes } else { stderr += bytes }
    }
}

/// The context of a built-in task run directly, outside any pool.
private final class StandaloneContext: TaskContext {
    let stopSwitch = StopSwitch()
    var slot: Int { 1 }
    var sharesSubmittersOutput: Bool { false }
    func started(pid: Int32?) {}
    func output(_ bytes: UnsafeRawBufferPointer, stream: TaskStream) {}
}
