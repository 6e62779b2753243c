// --events, --retries and the closing summary.
import Foundation
import Testing

private func events(_ h: Harness) throws -> [[String: Any]] {
    try String(decoding: h.read("events"), as: UTF8.self).split(separator: "\n").map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
}

@Suite struct EventsAndRetryTests {
    @Test func startAndFinishForEveryJob() throws {
        let h = try Harness()
        _ = try h.run(["run", "-j1", "--events", "events", "sh", "-c", "exit $1", "sh"], input: "0\n4\n")
        let all = try events(h)
        #expect(all.map { $0["event"] as? String } == ["start", "finish", "start", "finish"])
        #expect(all[0]["argv"] as? [String] == ["sh", "-c", "exit $1", "sh", "0"])
        #expect((all[0]["pid"] as? Int ?? 0) > 0 && all[0]["seq"] as? Int == 1 && all[0]["slot"] as? Int == 1)
        #expect(all[1]["outcome"] as? String == "ok" && all[1]["exit"] as? Int == 0)
        #expect(all[3]["outcome"] as? String == "failed" && all[3]["exit"] as? Int == 4)
        #expect(all[3]["duration"] is Double || all[3]["duration"] is Int)
    }

    @Test func invalidUTF8IsBase64() throws {
        let h = try Harness()
        _ = try h.run(["run", "--events", "events", "true"], input: [0xFF, 0x41, 0x0A])
        let start = try events(h)[0]
        #expect(start["argv_base64"] as? [String] == ["dHJ1ZQ==", "/0E="])
    }

    @Test func outcomesTimeoutSignalSpawnError() throws {
        let h = try Harness()
        _ = try h.run(["run", "-j1", "--events", "events", "--timeout", "0.3", "--kill-after", "0.1"],
                      input: "sleep 30\nkill -9 $$\n")
        _ = try h.run(["run", "--events", "events2", "no-such-cmd-pf"], input: "x\n")
        let finishes = try events(h).filter { $0["event"] as? String == "finish" }.map { $0["outcome"] as? String }
        #expect(finishes == ["timeout", "signal"])
        let spawn = String(decoding: h.read("events2"), as: UTF8.self)
        #expect(spawn.contains("\"outcome\":\"spawn-error\""))
    }

    @Test func stoppedRunAccountsForTheJobItRead() throws {
        let h = try Harness()
        // The first job fails only after a generous second, by when pfutures
        // has read the records behind it; each of those must be accounted for.
        _ = try h.run(["run", "-j1", "--halt", "soon", "--events", "events", "sh", "-c", "sleep 1; exit 1"],
                      input: "a\nb\nc\n")
        let all = try events(h)
        let kinds = all.map { $0["event"] as? String }
        #expect(kinds.contains("cancel"), "the records waiting for a slot are reported as cancelled: \(kinds)")
        let accounted = Set(all.compactMap { $0["seq"] as? Int })
        #expect(accounted == Set(1...accounted.count), "every sequence number read has an event: \(kinds)")
    }

    @Test func retriesCountAttemptsInAllWithEvents() throws {
        let h = try Harness()
        // GNU parallel's count: --retries 3 is three attempts in all.
        let r = try h.run(["run", "--retries", "3", "--events", "events", "sh", "-c", "echo x >> tries; exit 5"], input: "a\n")
        #expect(r.status == 123, "\(r)")
        #expect(h.read("tries") == Array("x\nx\nx\n".utf8), "3 attempts")
        let kinds = try events(h).map { $0["event"] as? String ?? "" }
        #expect(kinds == ["start", "finish", "retry", "start", "finish", "retry", "start", "finish"])
    }

    @Test func retryStopsOnSuccessAndHonoursRetryOn() throws {
        let h = try Harness()
        let flaky = "echo x >> tries.$1; test $(wc -l < tries.$1) -ge 2"
        let r = try h.run(["run", "--retries", "5", "--retry-delay", "0.05", "sh", "-c", flaky, "sh"], input: "a\n")
        #expect(r.status == 0 && h.read("tries.a").count == 4, "\(r)")
        let other = try h.run(["run", "--retries", "3", "--retry-on", "7", "sh", "-c", "echo x >> t2; exit 5"], input: "a\n")
        #expect(other.status == 123 && h.read("t2").count == 2, "exit 5 is not retried")
        let once = try h.run(["run", "--retries", "1", "sh", "-c", "echo x >> t3; exit 5"], input: "a\n")
        #expect(once.status == 123 && h.read("t3").count == 2, "--retries 1 is no retry: \(once)")
    }

    @Test func summaryCountsWhatDidNotSucceed() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j1", "--timeout", "0.3", "--kill-after", "0.1"],
                          input: "exit 1\nsleep 30\ntrue\nno-such-cmd-pf\n")
        let lines = r.err.split(separator: "\n").filter { $0.contains("did not succeed") }
        #expect(lines.count == 1, "\(r)")
        #expect(lines.first?.contains("3 of 4 jobs did not succeed: 2 failed, 1 timed out") == true, "\(r)")
        #expect(r.err.contains("failed: exit 1"), "\(r)")
    }

    @Test func aHugeRecordIsNotEchoedWholeInMessages() throws {
        let record = String(repeating: "a", count: 100_000)
        let r = try Harness().run(["run", "sh", "-c", "exit 3"], input: record + "\n")
        #expect(r.status == 123)
        #expect(r.err.utf8.count < 1000, "\(r.err.utf8.count) bytes of messages")
        #expect(r.err.contains("... (100015 bytes)"), "the length is said: \(r.err.suffix(80))")
    }
}
