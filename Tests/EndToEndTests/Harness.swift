// The one harness every end-to-end test uses: runs the built pfutures binary
// with real stdin in a temp dir of its own, and on failure prints command,
// status, stdout and stderr.
import Foundation
import Testing

struct RunResult: CustomStringConvertible {
    let arguments: [String]
    let status: Int32
    let stdout: [UInt8]
    let stderr: [UInt8]
    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
    var outLines: [String] { out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
    var description: String {
        "pfutures \(arguments.joined(separator: " "))\nstatus: \(status)\nstdout:\n\(out)\nstderr:\n\(err)"
    }
}

final class Harness {
    let directory: URL
    var path: String { directory.path }
    /// When set, pfutures runs under `ulimit -n` of this many descriptors.
    var descriptorLimit: Int?
    /// When set, pfutures runs under `ulimit -f` of this many KiB (file size).
    var fileSizeLimitKiB: Int?
    /// When set, pfutures runs as user nobody (ulimit -u binds no root)
    /// under `ulimit -u` of this many processes and threads.
    var processLimit: Int? {
        didSet {
            // nobody must be able to write here (job logs, outputs).
            chmod(path, 0o777)
        }
    }
    /// pfutures starts with SIGINT ignored, as `&` in a script starts it.
    var startsWithInterruptIgnored = false
    /// Words run before pfutures, which they start (e.g. `salloc -N2`).
    var launchPrefix: [String] = []
    /// Variables added to pfutures' environment.
    var environment: [String: String] = [:]

    static let closeLeakedDescriptors =
        "for p in /proc/$$/fd/*; do n=${p##*/}; if [ \"$n\" -gt 2 ]; then eval \"exec $n>&-\"; fi; done; exec \"$0\" \"$@\""

    static let binary: String = {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("pfutures").path
    }()

    /// The pool the suite runs with: `make test` runs it once per kind
    /// (PFUTURES_E2E_POOL=process for the second pass).
    static let pool = ProcessInfo.processInfo.environment["PFUTURES_E2E_POOL"] ?? "thread"

    /// `arguments` with `--pool process` added after the subcommand when the
    /// suite runs against the process pool.
    static func withPool(_ arguments: [String]) -> [String] {
        guard pool == "process", let first = arguments.first, first == "run" || first == "copy",
              !arguments.contains(where: { $0.hasPrefix("--pool") }) else { return arguments }
        return [first, "--pool", "process"] + arguments.dropFirst()
    }

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pfutures-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Starts pfutures; the caller feeds stdin and waits.
    func start(_ arguments: [String], stdin: FileHandle? = nil) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        // bash closes what the test process leaked (other tests' pipes run
        // concurrently), so pfutures starts with only 0, 1 and 2, as from a shell.
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        let limit = (descriptorLimit.map { "ulimit -n \($0); " } ?? "") + (fileSizeLimitKiB.map { "ulimit -f \($0); " } ?? "")
            + (startsWithInterruptIgnored ? "trap '' INT; " : "") + (processLimit.map { "ulimit -u \($0); " } ?? "")
        let asNobody = processLimit == nil ? [] : ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        process.arguments = ["-c", limit + Self.closeLeakedDescriptors] + asNobody + launchPrefix + [Self.binary]
            + Self.withPool(arguments)
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdin { process.standardInput = stdin }
        try process.run()
        return (process, out, err)
    }

    /// Runs pfutures with `input` on stdin and collects everything.
    @discardableResult
    func run(_ arguments: [String], input: [UInt8] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let inPipe = Pipe()
        let (process, out, err) = try start(arguments, stdin: inPipe.fileHandleForReading)
        let writer = Thread {
            inPipe.fileHandleForWriting.write(Data(input))
            try? inPipe.fileHandleForWriting.close()
        }
        writer.start()
        let result = collect(process, arguments: arguments, out: out, err: err)
        return result
    }

    func run(_ arguments: [String], input: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        try run(arguments, input: Array(input.utf8))
    }

    func collect(_ process: Process, arguments: [String], out: Pipe, err: Pipe) -> RunResult {
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return RunResult(arguments: arguments, status: process.terminationStatus,
                         stdout: Array(outData), stderr: Array(errData))
    }

    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }
    func read(_ name: String) -> [UInt8] { (try? Array(Data(contentsOf: URL(fileURLWithPath: file(name))))) ?? [] }
    func write(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: file(name))) }
    func files(prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// Waits up to `seconds` for `condition` (generous bounds, never tight sleeps).
    func eventually(_ seconds: Double = 30, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end { if condition() { return true }; usleep(20_000) }
        return condition()
    }
}

/// Live processes whose command line (or only its first word, with
/// `programOnly`) contains `marker`: how tests find a job's leftovers.
func processes(matching marker: String, programOnly: Bool = false) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        let zombie = stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? false
        let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let searched = programOnly ? Array(words.prefix(1)) : words
        return !zombie && searched.contains { $0.contains(marker) }
    }
}
