// pfutures run as a new user first meets it: command mode, template mode,
// option parsing that stops at COMMAND, usage errors, help and version.
import Foundation
import Testing

@Suite struct BasicRunTests {
    @Test func templateModeAppendsTheRecord() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j1", "echo"], input: "1\n2\n3\n")
        #expect(r.out == "1\n2\n3\n", "\(r)")
        #expect(r.status == 0, "\(r)")
    }

    @Test func commandModeRunsEachLineInTheShell() throws {
        let h = try Harness()
        let r = try h.run(["run"], input: "echo a\necho b\n")
        #expect(Set(r.outLines) == ["a", "b"], "\(r)")
    }

    @Test func optionsStopAtCommandSoItsOptionsReachIt() throws {
        let h = try Harness()
        try h.write("x", "x\n")
        let r = try h.run(["run", "-j2", "grep", "-n", "x"], input: "x\n")
        #expect(r.out == "1:x\n", "grep got -n: \(r)")
    }

    @Test func doubleDashEndsOptions() throws {
        let h = try Harness()
        let r = try h.run(["run", "--", "echo", "--", "-j1"], input: "a\n")
        #expect(r.out == "-- -j1 a\n", "\(r)")
    }

    @Test func unknownOptionIsOneLineExitOneAndRunsNothing() throws {
        let h = try Harness()
        let r = try h.run(["run", "--bogus", "touch", "marker"], input: "x\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("--bogus"), "\(r)")
        #expect(!h.exists("marker"))
    }

    @Test(arguments: [["run", "-j", "-x"], ["run", "--jobs="], ["run", "--timeout", "abc"],
                      ["run", "--halt", "later"], ["run", "-d", "ab"], ["run", "--jobs"]])
    func malformedValuesAreRejected(arguments: [String]) throws {
        let h = try Harness()
        let r = try h.run(arguments + ["touch", "marker"], input: "x\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.err.hasPrefix("pfutures: "), "\(r)")
        #expect(!h.exists("marker"))
    }

    @Test func helpListsOptionsAndVersionPrints() throws {
        let h = try Harness()
        let help = try h.run(["run", "--help"])
        #expect(help.status == 0 && help.out.contains("--jobs"), "\(help)")
        let version = try h.run(["--version"])
        #expect(version.status == 0 && version.out.hasPrefix("pfutures "), "\(version)")
        let top = try h.run(["--help"])
        #expect(top.status == 0 && top.out.contains("pfutures run"), "\(top)")
    }

    @Test func emptyInputRunsNothingAndSucceeds() throws {
        let h = try Harness()
        let r = try h.run(["run", "touch", "marker"], input: "")
        #expect(r.status == 0 && r.out.isEmpty, "\(r)")
        #expect(h.files(prefix: "marker").isEmpty)
    }

    @Test func argFileReadsRecordsFromAFile() throws {
        let h = try Harness()
        try h.write("list", "p\nq\n")
        let r = try h.run(["run", "-k", "-a", "list", "echo"])
        #expect(r.out == "p\nq\n", "\(r)")
        let missing = try h.run(["run", "-a", "no-such-file", "echo"])
        #expect(missing.status == 1 && missing.err.contains("no-such-file"), "\(missing)")
    }
}
