// --timeout, --kill-after, --deadline and --halt: what gets stopped, and
// that nothing a job started is left running.
import Foundation
import Testing

@Suite struct TimeLimitTests {
    @Test func timeoutStopsTheJobAndItsGrandchildren() throws {
        let marker = "pf-timeout-\(UUID().uuidString.prefix(8))"
        let h = try Harness()
        let job = "sh -c 'sleep 60; echo \(marker)' & sleep 60; echo \(marker)"
        let started = Date()
        let r = try h.run(["run", "--timeout", "0.5", "--kill-after", "0.5"], input: job + "\n")
        #expect(r.status == 125, "\(r)")
        #expect(r.err.contains("timed out"), "\(r)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(h.eventually(10) { processes(matching: marker).isEmpty }, "no job process outlives the timeout")
    }

    @Test func jobIgnoringSigtermIsKilledAfterTheGrace() throws {
        let h = try Harness()
        let r = try h.run(["run", "--timeout", "0.3", "--kill-after", "0.3"],
                          input: "trap '' TERM; touch trapped; sleep 60\n")
        #expect(r.status == 125, "\(r)")
        #expect(h.exists("trapped"))
    }

    @Test func deadlineCancelsPendingAndStopsRunning() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j2", "--deadline", "1", "sh", "-c", "touch ran.$1; sleep 60", "sh"],
                          input: (1...10).map { "\($0)\n" }.joined())
        #expect(r.status == 122, "\(r)")
        #expect(h.files(prefix: "ran.").count == 2, "only the first two started")
    }

    @Test func haltSoonLetsRunningJobsFinish() throws {
        let h = try Harness()
        // Job 1 fails only once job 2 runs, so job 2 is running, not pending, at the halt.
        let job = "if [ $1 = 1 ]; then while [ ! -e started.2 ]; do sleep 0.02; done; exit 1; fi; "
            + "touch started.$1; sleep 0.5; touch finished.$1"
        let r = try h.run(["run", "-j2", "--halt", "soon", "sh", "-c", job, "sh"],
                          input: (1...10).map { "\($0)\n" }.joined())
        #expect(r.status == 123, "\(r)")
        #expect(h.files(prefix: "finished.") == ["finished.2"], "job 2 ran on; nothing new started")
    }

    @Test func haltNowStopsRunningJobs() throws {
        let h = try Harness()
        let job = "if [ $1 = 2 ]; then while [ ! -e started.1 ]; do sleep 0.02; done; exit 1; fi; touch started.$1; sleep 60; touch finished.$1"
        let started = Date()
        let r = try h.run(["run", "-j2", "--halt", "now", "--kill-after", "0.2", "sh", "-c", job, "sh"],
                          input: "1\n2\n3\n")
        #expect(Date().timeIntervalSince(started) < 30, "\(r)")
        #expect(h.files(prefix: "finished.").isEmpty, "\(r)")
        #expect(!h.exists("started.3"))
    }

    @Test func haltAfterNFailures() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j1", "--halt", "soon,fail=2", "sh", "-c", "touch ran.$1; exit 1", "sh"],
                          input: "1\n2\n3\n4\n")
        #expect(r.status == 123, "\(r)")
        #expect(h.files(prefix: "ran.") == ["ran.1", "ran.2"])
    }
}
