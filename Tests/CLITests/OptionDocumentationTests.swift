// Each option is defined once (OptionTable); --help and man/pfutures.1 must
// name exactly those options.
import Foundation
@testable import PfuturesCLI
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The option names in the OPTIONS section's `.TP` headers of the man page.
private func manPageOptions() throws -> Set<String> {
    let text = try String(contentsOf: packageRoot.appendingPathComponent("man/pfutures.1"), encoding: .utf8)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(of: ".SH OPTIONS") else { return [] }
    let end = lines[(start + 1)...].firstIndex { $0.hasPrefix(".SH ") } ?? lines.count
    var names: Set<String> = []
    for i in start..<end where lines[i] == ".TP" && i + 1 < end {
        let header = lines[i + 1]
        for match in header.matches(of: /\\fB\\-\\-((?:[a-z0-9]|\\-)+)\\fR/) {
            names.insert("--" + match.output.1.replacingOccurrences(of: "\\-", with: "-"))
        }
        for match in header.matches(of: /\\fB\\-([A-Za-z0-9])\\fR/) { names.insert("-" + match.output.1) }
    }
    return names
}

private func tableOptions() -> Set<String> {
    var names: Set<String> = []
    for spec in OptionTable.all {
        if let long = spec.long { names.insert("--" + long) }
        if let short = spec.short { names.insert("-" + String(short)) }
    }
    return names
}

/// The EXAMPLES section's commands as a reader of the man source means
/// them: `.B` lines and the lines of `.nf` blocks, with `\-` as `-` and
/// `\e` or `\\` as a backslash.
private func exampleCommands() throws -> [String] {
    let text = try String(contentsOf: packageRoot.appendingPathComponent("man/pfutures.1"), encoding: .utf8)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(of: ".SH EXAMPLES") else { return [] }
    let end = lines[(start + 1)...].firstIndex { $0.hasPrefix(".SH ") } ?? lines.count
    var commands: [String] = []
    var literal = false
    for line in lines[(start + 1)..<end] {
        if line == ".nf" { literal = true; continue }
        if line == ".fi" { literal = false; continue }
        guard literal || line.hasPrefix(".B ") else { continue }
        let source = literal ? line : String(line.dropFirst(3))
        commands.append(source.replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\e", with: "\\")
            .replacingOccurrences(of: "\\\\", with: "\\"))
    }
    return commands
}

@Suite struct OptionDocumentationTests {
    @Test func examplesSurviveRenderingByteForByte() throws {
        let commands = try exampleCommands()
        #expect(commands.count >= 8, "\(commands)")
        let groff = Process()
        groff.executableURL = URL(fileURLWithPath: "/usr/bin/groff")
        guard FileManager.default.isExecutableFile(atPath: groff.executableURL!.path) else {
            Issue.record("groff is not installed (make deps installs groff-base): cannot render the man page")
            return
        }
        // Wide lines, no overstriking: what a reader copies from `man pfutures`.
        groff.arguments = ["-man", "-Tutf8", "-P-cbou", "-rLL=300n", packageRoot.appendingPathComponent("man/pfutures.1").path]
        let out = Pipe()
        groff.standardOutput = out
        groff.standardError = FileHandle.nullDevice
        try groff.run()
        let rendered = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        groff.waitUntilExit()
        let shown = Set(rendered.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        for command in commands {
            let survives = shown.contains(command.trimmingCharacters(in: .whitespaces))
            #expect(survives, "rendered differently: \(command)")
        }
    }

    @Test func manPageDocumentsExactlyTheOptionsThatExist() throws {
        let documented = try manPageOptions()
        let defined = tableOptions()
        #expect(defined.subtracting(documented).isEmpty, "missing from the man page")
        #expect(documented.subtracting(defined).isEmpty, "in the man page but not an option")
    }

    @Test(arguments: Subcommand.allCases)
    func helpNamesEveryOptionOfItsSubcommand(subcommand: Subcommand) throws {
        let pipe = Pipe()
        let process = Process()
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("pfutures")
        process.executableURL = binary
        process.arguments = [subcommand.rawValue, "--help"]
        process.standardOutput = pipe
        try process.run()
        let help = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for spec in OptionTable.all {
            let offered = spec.commands.contains(subcommand)
            if let long = spec.long {
                #expect(help.contains("--\(long)=") || help.contains("--\(long) ") == offered, "--\(long) in \(subcommand) --help")
            }
            if let short = spec.short, offered { #expect(help.contains("-\(short)"), "-\(short) missing from --help") }
        }
    }

    @Test func optionNamesAreUnique() {
        let longs = OptionTable.all.compactMap(\.long)
        let shorts = OptionTable.all.compactMap(\.short)
        #expect(Set(longs).count == longs.count)
        #expect(Set(shorts).count == shorts.count)
        #expect(Set(OptionTable.all.map(\.id)).count == OptionID.allCases.count, "every id defined once")
    }
}
