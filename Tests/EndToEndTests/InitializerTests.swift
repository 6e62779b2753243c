// --initializer: once per worker before its first job; a failing one breaks
// the pool (BrokenThreadPool semantics): nothing runs, exit 1, says why.
import Foundation
import Testing

@Suite struct InitializerTests {
    @Test func runsOncePerWorkerBeforeJobs() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j1", "--initializer", "echo init >> inits", "sh", "-c", "test -e inits && touch ran.$1", "sh"],
                          input: "1\n2\n3\n")
        #expect(r.status == 0, "\(r)")
        #expect(h.read("inits") == Array("init\n".utf8))
        #expect(h.files(prefix: "ran.") == ["ran.1", "ran.2", "ran.3"])
    }

    @Test func failingInitializerRunsNothingAndExitsOne() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j2", "--initializer", "exit 3", "touch"], input: "a\nb\nc\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.err.contains("initializer failed") && r.err.contains("exited with status 3"), "\(r)")
        #expect(r.err.contains("not run"), "\(r)")
        #expect(h.files(prefix: "a").isEmpty && h.files(prefix: "b").isEmpty && h.files(prefix: "c").isEmpty)
    }
}
