// GNU parallel itself, for the tests that compare pfutures with it. `make
// deps` installs it; a test that needs it and cannot find it records a
// failure saying so, never a silent skip.
import Foundation
import Testing

enum GNUParallel {
    static let path: String? = ["/usr/bin/parallel", "/usr/local/bin/parallel"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// `parallel --will-cite ARGUMENTS` run in `directory` with `input` on
    /// stdin: its stdout, or nil (and a recorded issue) when it is missing.
    static func run(_ arguments: [String], input: String, in directory: URL? = nil) throws -> String? {
        guard let path else {
            Issue.record("GNU parallel is not installed (make deps installs it): cannot compare with it")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--will-cite"] + arguments
        if let directory { process.currentDirectoryURL = directory }
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return out
    }
}
