// The worker protocol's frames round-trip, and malformed ones are refused.
import Jobs
import Testing

@Suite struct WorkerProtocolTests {
    @Test func jobsRoundTrip() throws {
        let jobs = [
            WireJob(sequence: 7, slot: 2, kind: .exec, timeout: .milliseconds(1500), killAfter: .seconds(2),
                    capture: true, strings: [Array("echo".utf8), [0xFF, 0x00, 0x41]]),
            WireJob(sequence: 8, slot: 1, kind: .copy, timeout: nil, killAfter: .zero, capture: false,
                    strings: [Array("a".utf8), Array("b/".utf8)]),
        ]
        let frame = WireJob.frame(jobs)
        #expect(frame[4] == FrameType.jobs.rawValue)
        #expect(try WireJob.decode(Array(frame.dropFirst(5))) == jobs)
    }

    @Test(arguments: [WireOutcome.finished(.exited(3), bytesCopied: 0), .finished(.signaled(9), bytesCopied: 0),
                      .finished(.timedOut, bytesCopied: 0), .finished(.spawnFailed(.notFound), bytesCopied: 0),
                      .finished(.spawnFailed(.cannotRun("E2BIG")), bytesCopied: 0), .cancelled,
                      .copyFailed("No such file"), .finished(.exited(0), bytesCopied: 4096)])
    func outcomesRoundTrip(outcome: WireOutcome) throws {
        let frame = outcome.frame(sequence: 42, startedAt: 1.5, runtime: 0.25)
        let (sequence, decoded, startedAt, runtime) = try WireOutcome.decode(Array(frame.dropFirst(5)))
        #expect(sequence == 42 && decoded == outcome && startedAt == 1.5 && runtime == 0.25)
    }

    @Test func truncatedPayloadsAreRefused() {
        let frame = WireJob.frame([WireJob(sequence: 1, slot: 1, kind: .shell, timeout: nil, killAfter: .zero,
                                           capture: true, strings: [Array("true".utf8)])])
        let payload = Array(frame.dropFirst(5))
        for cut in 0..<payload.count {
            #expect(throws: ProtocolError.self) { try WireJob.decode(Array(payload.prefix(cut))) }
        }
    }

    @Test func workerSettingsRoundTrip() throws {
        var settings = WorkerSettings()
        settings.shell = Array("/bin/bash".utf8)
        settings.initializer = Array("echo hi".utf8)
        settings.copy.preserveTimes = true
        settings.copy.fsync = true
        #expect(try WorkerSettings(arguments: settings.arguments) == settings)
    }
}
