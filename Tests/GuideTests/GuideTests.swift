// The README's Futures guide cannot rot: each of its Swift blocks must be a
// `guide:` region of Tests/GuideExample/main.swift (which the build compiles),
// and that program, run, must print what the blocks' comments say.
import Foundation
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// The `// guide: NAME` ... `// guide: end` regions of the example program, in order.
func guideRegions(of source: String) -> [(name: String, text: String)] {
    var regions: [(String, String)] = []
    var current: (name: String, lines: [Substring])?
    for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("// guide: ") {
            let name = String(line.dropFirst("// guide: ".count))
            if name == "end", let open = current { regions.append((open.name, open.lines.joined(separator: "\n"))) }
            current = name == "end" ? nil : (name, [])
        } else if current != nil {
            current!.lines.append(line)
        }
    }
    return regions
}

/// The ```swift blocks of the README's library section, in order.
func readmeSwiftBlocks(_ readme: String) -> [String] {
    guard let start = readme.range(of: "## The `Futures` library"),
          let end = readme.range(of: "\n## ", range: start.upperBound..<readme.endIndex) else { return [] }
    let parts = readme[start.upperBound..<end.lowerBound].components(separatedBy: "```swift\n").dropFirst()
    return parts.compactMap { $0.components(separatedBy: "\n```").first }
}

@Suite struct GuideTests {
    @Test func everyGuideBlockOfTheReadmeIsCompiledCode() throws {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: root.appendingPathComponent("Tests/GuideExample/main.swift"), encoding: .utf8)
        let regions = guideRegions(of: source)
        let blocks = readmeSwiftBlocks(readme)
        #expect(regions.count >= 6, "the example program lost its regions")
        #expect(blocks.count == regions.count, "README guide blocks: \(blocks.count), example regions: \(regions.count)")
        for (block, region) in zip(blocks, regions) {
            #expect(block == region.text, "README block differs from the example's region '\(region.name)'")
        }
    }

    @Test func theGuidePrintsWhatItsCommentsSay() throws {
        let program = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("guide-example")
        let process = Process()
        process.executableURL = program
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // Every `print(...)  // EXPECTED` line of the program, in order.
        let source = try String(contentsOf: root.appendingPathComponent("Tests/GuideExample/main.swift"), encoding: .utf8)
        let expected = source.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("print("), let marker = line.range(of: "// ") else { return nil }
            return String(line[marker.upperBound...])
        }
        #expect(expected.count == 9)
        #expect(printed.split(separator: "\n").map(String.init) == expected)
    }
}
