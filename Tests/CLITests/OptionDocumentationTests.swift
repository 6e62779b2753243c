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

@Suite struct OptionDocumentationTests {
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
