// Replacement strings, -I, -n, --shell-template and the job environment.
import Foundation
import Testing

@Suite struct TemplateTests {
    @Test func replacementStrings() throws {
        let r = try Harness().run(["run", "echo", "{}", "{.}", "{/}", "{//}", "{/.}", "{#}"], input: "dir/sub/file.tar.gz\n")
        #expect(r.out == "dir/sub/file.tar.gz dir/sub/file.tar file.tar.gz dir/sub file.tar 1\n", "\(r)")
        let plain = try Harness().run(["run", "echo", "{.}", "{//}", "{/.}"], input: ".bashrc\n")
        #expect(plain.out == ".bashrc . .bashrc\n", "\(plain)")
    }

    @Test func slotStaysWithinTheCap() throws {
        let r = try Harness().run(["run", "-j3", "echo", "{%}"], input: (1...30).map { "\($0)\n" }.joined())
        #expect(r.outLines.count == 30, "\(r)")
        let slots = Set(r.outLines.map { String($0.split(separator: " ")[0]) })
        #expect(slots.isSubset(of: ["1", "2", "3"]) && !slots.isEmpty, "\(r)")
    }

    @Test func replaceOptionSetsAnotherToken() throws {
        let r = try Harness().run(["run", "-I", "@@", "echo", "<@@>", "{}"], input: "v\n")
        #expect(r.out == "<v> {}\n", "\(r)")
    }

    @Test func maxArgsPutsSeveralRecordsInOneJob() throws {
        let r = try Harness().run(["run", "-k", "-n", "2", "echo"], input: "1\n2\n3\n4\n5\n")
        #expect(r.out == "1 2\n3 4\n5\n", "\(r)")
        // Inside a longer word the records are joined (GNU parallel; -X repeats the word).
        let joined = try Harness().run(["run", "-n", "2", "echo", "x{}"], input: "a\nb\n")
        #expect(joined.out == "xa b\n", "\(joined)")
    }

    @Test func shellTemplateQuotesRecordsSoTheyNeverRun() throws {
        let h = try Harness()
        let hostile = "$(touch pwned1); touch pwned2 'x' \"y\" `touch pwned3`"
        let r = try h.run(["run", "--shell-template", "echo {} | tr a-z A-Z"], input: hostile + "\n")
        #expect(r.out == hostile.uppercased() + "\n", "\(r)")
        #expect(h.files(prefix: "pwned").isEmpty)
    }

    @Test func jobsSeeTheirSequenceAndSlot() throws {
        let r = try Harness().run(["run", "-k", "-j1", "sh", "-c", "echo $PFUTURES_SEQ/$PFUTURES_SLOT"], input: "a\nb\n")
        #expect(r.out == "1/1\n2/1\n", "\(r)")
    }

    @Test func dryRunPrintsAndVerboseEchoes() throws {
        let h = try Harness()
        let dry = try h.run(["run", "--dry-run", "-k", "touch"], input: "m 1\nm2\n")
        #expect(dry.out == "touch 'm 1'\ntouch m2\n", "\(dry)")
        #expect(h.files(prefix: "m").isEmpty)
        let verbose = try h.run(["run", "-t", "true"], input: "a\n")
        #expect(verbose.err == "true a\n", "\(verbose)")
    }
}
