// The work items every ProcessPoolExecutor worker serves without being told:
// running a command, and copying a file (as shutil.copy does).
import Foundation

/// Runs a program with arguments (no shell) in a worker and returns its exit
/// status and output.
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

    public func run() throws -> Output {
        guard let program = argv.first else { throw TaskFailure("empty command") }
        let process = Process()
        if program.contains("/") {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(argv.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = argv
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end before waiting, so a chatty command cannot block.
        nonisolated(unsafe) var errData = Data()
        let reader = WorkerThread.start(name: "stderr") { errData = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        reader.join()
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus
                                                                  : process.terminationStatus
        return Output(status: status, stdout: outData, stderr: errData)
    }
}

/// Copies a file's contents and permission bits (shutil.copy) in a worker,
/// through a temporary file renamed into place. A destination that is a
/// directory receives the file under its own name. Returns the bytes copied.
public struct CopyTask: ProcessTask {
    public var source: String
    public var destination: String

    public init(_ source: String, to destination: String) {
        self.source = source
        self.destination = destination
    }

    public func run() throws -> Int {
        var isDirectory: ObjCBool = false
        var target = destination
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory), isDirectory.boolValue {
            target = (destination as NSString).appendingPathComponent((source as NSString).lastPathComponent)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: source)
        if attributes[.type] as? FileAttributeType == .typeDirectory { throw TaskFailure("\(source) is a directory") }
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        let directory = (target as NSString).deletingLastPathComponent
        // One task at a time per worker, so the pid makes the name unique.
        let tempPath = (directory.isEmpty ? "." : directory) + "/.pfutures-task.\(getpid()).tmp"
        try data.write(to: URL(fileURLWithPath: tempPath))
        if let mode = attributes[.posixPermissions] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: tempPath)
        }
        guard rename(tempPath, target) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tempPath)
            throw TaskFailure("\(source) -> \(target): \(why)")
        }
        return data.count
    }
}

/// An error text from a built-in task.
public struct TaskFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
