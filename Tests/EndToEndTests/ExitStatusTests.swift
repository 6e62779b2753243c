// Each row of the exit-status table (SPEC §2.7), through the real binary.
import Foundation
import Testing

@Suite struct ExitStatusTests {
    @Test func allSucceededIsZero() throws {
        #expect(try Harness().run(["run", "true"], input: "1\n2\n").status == 0)
    }

    @Test func exitOneTo125Is123() throws {
        let r = try Harness().run(["run", "sh", "-c", "exit 3"], input: "1\n")
        #expect(r.status == 123, "\(r)")
    }

    @Test func exit255Is124AndStartsNoFurtherJob() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j1", "sh", "-c", "touch ran.$1; exit 255", "sh"], input: "1\n2\n3\n")
        #expect(r.status == 124, "\(r)")
        #expect(h.files(prefix: "ran.") == ["ran.1"])
    }

    @Test func killedBySignalIs125() throws {
        let r = try Harness().run(["run", "sh", "-c", "kill -9 $$"], input: "1\n")
        #expect(r.status == 125, "\(r)")
    }

    @Test func notExecutableIs126() throws {
        let h = try Harness()
        try h.write("script", "#!/bin/sh\necho hi\n")
        let r = try h.run(["run", "./script"], input: "1\n")
        #expect(r.status == 126, "\(r)")
        #expect(r.err.contains("./script"), "\(r)")
    }

    @Test func notFoundIs127AndTheOthersStillRun() throws {
        let h = try Harness()
        let r = try h.run(["run", "no-such-command-pfutures"], input: "x\n")
        #expect(r.status == 127, "\(r)")
        #expect(r.err.contains("no-such-command-pfutures: command not found"), "\(r)")
        let mixed = try h.run(["run", "sh", "-c", "if [ $1 = 2 ]; then exit 127; fi; echo $1", "sh"], input: "1\n2\n3\n")
        #expect(Set(mixed.outLines) == ["1", "3"], "\(mixed)")
    }

    @Test func severerStatusWins() throws {
        // 125 (killed) outranks 123 (failed) and 127 (not found).
        let r = try Harness().run(["run", "sh", "-c", "case $1 in 1) exit 1;; 2) kill -9 $$;; esac; exit 127", "sh"],
                                  input: "1\n2\n3\n")
        #expect(r.status == 125, "\(r)")
    }
}
