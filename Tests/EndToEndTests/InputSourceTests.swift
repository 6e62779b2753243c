// GNU parallel's input sources and replacement strings (SPEC 2.1b, 2.2):
// `:::`, `::::`, `:::+`, `--link`, `{N}` and its forms, `--colsep`,
// `--header :`, shell commands from sources, stdin left alone, the implied
// shell template, a missing COMMAND said once, and the terminal hint.
import Foundation
import Testing

@Suite struct InputSourceTests {
    @Test func sourcesCombineLastFastest() throws {
        let r = try Harness().run(["run", "-k", "echo", ":::", "a", "b", ":::", "1", "2"], input: "")
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "a 1\na 2\nb 1\nb 2\n", "\(r)")
    }

    @Test func stdinIsNotReadWhenASourceIsGiven() throws {
        // The record on stdin is neither a job nor the jobs' input.
        let r = try Harness().run(["run", "-k", "sh", "-c", "echo $1; cat", "sh", ":::", "a", "b"], input: "x\n")
        #expect(r.out == "a\nb\n", "\(r)")
    }

    @Test func plusPairsWithThePreviousSourceAndLinkWraps() throws {
        let plus = try Harness().run(["run", "-k", "echo", ":::", "a", "b", ":::+", "1", "2", "3"], input: "")
        #expect(plus.out == "a 1\nb 2\n", "the shorter ends the pairs: \(plus)")
        let link = try Harness().run(["run", "-k", "--link", "echo", ":::", "a", "b", "c", ":::", "1", "2"], input: "")
        #expect(link.out == "a 1\nb 2\nc 1\n", "the shorter wraps around: \(link)")
        let mixed = try Harness().run(["run", "-k", "echo", ":::", "a", "b", ":::+", "1", "2", ":::", "x", "y"], input: "")
        #expect(mixed.out == "a 1 x\na 1 y\nb 2 x\nb 2 y\n", "\(mixed)")
    }

    @Test func fileSourcesAndStdinAsASource() throws {
        let h = try Harness()
        try h.write("hosts", "h1\nh2\n")
        let r = try h.run(["run", "-k", "echo", "::::", "hosts", ":::", "22", "80"], input: "")
        #expect(r.out == "h1 22\nh1 80\nh2 22\nh2 80\n", "\(r)")
        let stdin = try h.run(["run", "-k", "echo", "{2}", "{1}", "::::", "-", ":::", "p"], input: "s1\ns2\n")
        #expect(stdin.out == "p s1\np s2\n", "\(stdin)")
        let missing = try h.run(["run", "echo", "::::", "nope"], input: "")
        #expect(missing.status == 1 && missing.err.contains("cannot read nope"), "\(missing)")
    }

    @Test func positionalValuesWithTheirForms() throws {
        let r = try Harness().run(["run", "echo", "{1/.}", "{1//}", "{1.}", "{2/}", "{3}", ":::", "d/f.tar.gz", ":::", "x/y"],
                                  input: "")
        #expect(r.out == "f.tar d d/f.tar y \n", "an absent {3} is empty: \(r)")
    }

    @Test func valuesReachTheJobByteForByte() throws {
        let h = try Harness()
        // Quotes, spaces, a leading dash and invalid UTF-8, through :::
        // (built by the shell, so the bytes are not Swift strings) and ::::.
        let script = #"exec "$0" run -k sh -c 'printf "%s\0" "$@" > out.$PFUTURES_SEQ' sh ::: "it's" 'a "b" c' -n "$(printf 'z\377\001')""#
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, Harness.binary]
        process.currentDirectoryURL = URL(fileURLWithPath: h.path)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(h.read("out.1") == Array("it's\0".utf8))
        #expect(h.read("out.2") == Array("a \"b\" c\0".utf8))
        #expect(h.read("out.3") == Array("-n\0".utf8))
        #expect(h.read("out.4") == [0x7A, 0xFF, 0x01, 0])
        try Data([0x61, 0xFE, 0x20, 0x27, 0x0A]).write(to: URL(fileURLWithPath: h.file("values")))
        let r = try h.run(["run", "sh", "-c", "printf '%s' \"$1\" > fromfile", "sh", "::::", "values"], input: "")
        #expect(r.status == 0, "\(r)")
        #expect(h.read("fromfile") == [0x61, 0xFE, 0x20, 0x27])
    }

    @Test func sourcesWithoutCommandAreShellCommands() throws {
        let r = try Harness().run(["run", "-k", ":::", "echo hi", "echo there | tr a-z A-Z"], input: "")
        #expect(r.out == "hi\nTHERE\n", "\(r)")
    }

    @Test func sequenceAloneKeepsTheRecordOut() throws {
        let r = try Harness().run(["run", "-k", "echo", "job", "{#}"], input: "a\nb\n")
        #expect(r.out == "job 1\njob 2\n", "\(r)")
    }

    @Test func colsepSplitsIntoColumnsAndKeepsTheWholeRecord() throws {
        let tab = try Harness().run(["run", "-k", "--colsep", "\\t", "echo", "{2}", "{1}", "{}"], input: "a\tb\nc\td\n")
        #expect(tab.out == "b a a\tb\nd c c\td\n", "\(tab)")
        let spaces = try Harness().run(["run", "--colsep", " +", "echo", "{2}"], input: "a   b\n")
        #expect(spaces.out == "b\n", "\(spaces)")
        let appended = try Harness().run(["run", "--colsep", ",", "printf", "[%s]"], input: "a,b,c\n")
        #expect(appended.out == "[a][b][c]", "columns are separate arguments: \(appended)")
        let bad = try Harness().run(["run", "--colsep", "(", "echo"], input: "")
        #expect(bad.status == 1 && bad.err.contains("--colsep"), "\(bad)")
    }

    @Test func headerNamesColumnsAndSources() throws {
        let csv = try Harness().run(["run", "-k", "--header", ":", "--colsep", ",", "echo", "{name}", "is", "{age}"],
                                    input: "name,age\nbob,3\nann,5\n")
        #expect(csv.out == "bob is 3\nann is 5\n", "\(csv)")
        let sources = try Harness().run(["run", "-k", "--header", ":", "echo", "{f}-{g}", ":::", "f", "a", "b", ":::", "g", "c"],
                                        input: "")
        #expect(sources.out == "a-c\nb-c\n", "\(sources)")
        // Without --header, {word} is never a replacement string.
        let awk = try Harness().run(["run", "awk", "BEGIN {print \"{x}\"}"], input: "ignored\n")
        #expect(awk.status == 0 && awk.out == "{x}\n", "\(awk)")
    }

    @Test func oneWordWithShellSyntaxRunsAsAShellTemplate() throws {
        let h = try Harness()
        try h.write("h.txt", "hello")
        let r = try h.run(["run", "wc -c < {}"], input: "h.txt\n")
        #expect(r.status == 0 && r.out.trimmingCharacters(in: .whitespacesAndNewlines) == "5", "\(r)")
        // The record is still quoted: it is data, never code.
        let quoted = try h.run(["run", "echo {} | tr a-z A-Z"], input: "it's; touch pwned\n")
        #expect(quoted.out == "IT'S; TOUCH PWNED\n" && !h.exists("pwned"), "\(quoted)")
        // A program whose name has a space still runs directly.
        try h.write("my tool", "#!/bin/sh\necho direct \"$@\"\n")
        chmod(h.file("my tool"), 0o755)
        let direct = try h.run(["run", "./my tool"], input: "x\n")
        #expect(direct.out == "direct x\n", "\(direct)")
    }

    @Test func aMissingCommandIsSaidOnceAndStopsWith127() throws {
        let r = try Harness().run(["run", "-j4", "pfutures-no-such-command"],
                                  input: (1...1000).map { "\($0)\n" }.joined())
        #expect(r.status == 127, "\(r)")
        let notFound = r.err.split(separator: "\n").filter { $0.contains("command not found") }
        #expect(notFound.count == 1, "one message, not one per record: \(r)")
        #expect(r.err.split(separator: "\n").count < 10, "\(r)")
        // A program word built from the record fails per record instead.
        let perRecord = try Harness().run(["run", "-k", "{}"], input: "pfutures-nope-1\necho\n")
        #expect(perRecord.status == 127 && perRecord.out == "\n", "\(perRecord)")
    }

    @Test func readingFromATerminalSaysHowToEnd() throws {
        let h = try Harness()
        // script(1) gives pfutures a terminal as stdin; ^D ends the input.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-q", "-e", "-c", "\(Harness.binary) run echo got", "/dev/null"]
        process.currentDirectoryURL = URL(fileURLWithPath: h.path)
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data("x\n\u{4}".utf8))
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("reading records from the terminal; end with Ctrl-D"), "\(text)")
        #expect(text.contains("got x"), "\(text)")
        let piped = try h.run(["run", "echo"], input: "x\n")
        #expect(!piped.err.contains("terminal"), "\(piped)")
    }
}
