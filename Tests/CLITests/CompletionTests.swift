// Shell completions come from the option table: the committed files match
// what the binary generates (run `make completions` after changing an
// option), bash really completes with them, and make install / uninstall
// put them in place and take everything away again.
import Foundation
import Testing

private let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("pfutures").path

private func run(_ program: String, _ arguments: [String], in directory: URL? = nil) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
}

@Suite struct CompletionTests {
    @Test(arguments: [("bash", "pfutures.bash"), ("zsh", "_pfutures"), ("fish", "pfutures.fish")])
    func committedCompletionsMatchTheOptionTable(shell: String, file: String) throws {
        let (status, generated) = try run(binary, ["__completions", shell])
        #expect(status == 0)
        let committed = try String(contentsOf: root.appendingPathComponent("completions/\(file)"), encoding: .utf8)
        #expect(committed == generated, "completions/\(file) drifted from the option table: run make completions")
    }

    @Test func bashCompletesOptionsAndSubcommands() throws {
        let script = """
            source completions/pfutures.bash
            COMP_WORDS=(pfutures run --tim); COMP_CWORD=2; _pfutures; echo "${COMPREPLY[*]}"
            COMP_WORDS=(pfutures co); COMP_CWORD=1; _pfutures; echo "${COMPREPLY[*]}"
            COMP_WORDS=(pfutures copy --pre); COMP_CWORD=2; _pfutures; echo "${COMPREPLY[*]}"
            COMP_WORDS=(pfutures run --pool ''); COMP_CWORD=3; _pfutures; echo "${COMPREPLY[*]}"
            """
        let (status, out) = try run("/bin/bash", ["-c", script], in: root)
        #expect(status == 0)
        #expect(out.split(separator: "\n").map(String.init) == ["--timeout", "copy", "--preserve", "thread process"], "\(out)")
    }

    @Test func installAndUninstallLeaveNothingBehind() throws {
        let stage = FileManager.default.temporaryDirectory.appendingPathComponent("pfutures-install-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stage) }
        // BINARY points make install at the binary these tests drive.
        let make = ["-C", root.path, "DESTDIR=\(stage.path)", "PREFIX=/usr", "BINARY=\(binary)"]
        let (installed, log) = try run("/usr/bin/make", make + ["install"])
        #expect(installed == 0, "\(log)")
        for path in ["usr/bin/pfutures", "usr/share/man/man1/pfutures.1", "usr/share/bash-completion/completions/pfutures",
                     "usr/share/zsh/vendor-completions/_pfutures", "usr/share/fish/vendor_completions.d/pfutures.fish"] {
            #expect(FileManager.default.fileExists(atPath: stage.appendingPathComponent(path).path), "\(path) not installed")
        }
        let (removed, log2) = try run("/usr/bin/make", make + ["uninstall"])
        #expect(removed == 0, "\(log2)")
        let left = FileManager.default.enumerator(atPath: stage.path)?.compactMap { $0 as? String }
            .filter { !((try? FileManager.default.attributesOfItem(atPath: stage.appendingPathComponent($0).path)[.type]) as? FileAttributeType == .typeDirectory) } ?? []
        #expect(left.isEmpty, "left behind: \(left)")
        let (refused, message) = try run("/usr/bin/make", ["-C", root.path, "DESTDIR=\(stage.path)", "BINARY=/nonexistent", "install"])
        #expect(refused != 0 && message.contains("run make first"), "\(message)")
    }
}
