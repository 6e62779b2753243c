// Worker protocol v4: every frame round-trips through the bytes a reader
// sees; malformed input (garbage, truncated, oversized, unknown type, no
// closing newline, random bytes) is one ProtocolError, never a hang or a
// crash; a job and its result cross the wire unchanged, bytes intact.
import CSpawn
import Jobs
import ProcessPool
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Everything `bytes` holds, read back as frames through a pipe; the error
/// that stopped the reader, if any.
private func readFrames(_ bytes: [UInt8]) -> ([Frame], ProtocolError?) {
    var fds: [Int32] = [0, 0]
    precondition(pf_pipe(&fds) == 0)
    // Small inputs only: the pipe holds them whole, so writing cannot block.
    precondition(bytes.count < 60_000)
    _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
    close(fds[1])
    defer { close(fds[0]) }
    let input = FrameInput(fd: fds[0])
    var frames: [Frame] = []
    do throws(ProtocolError) {
        while let frame = try input.next() { frames.append(frame) }
        return (frames, nil)
    } catch {
        return (frames, error)
    }
}

@Suite struct WorkerProtocolTests {
    static let everyFrame: [Frame] = [
        .hello(version: 4, pid: 4242, slots: 4, host: Array("node-1".utf8)),
        .setup(version: 4, interval: .seconds(1), window: .milliseconds(5500), slots: 0, initializer: nil),
        .setup(version: 4, interval: .seconds(1), window: .seconds(5), slots: 3,
               initializer: WireTask(id: 0, slot: 0, name: Array("init".utf8), payload: [0, 0xFF, 0x0A])),
        .heartbeat,
        .jobs([WireTask(id: 7, slot: 2, name: Array("job".utf8), payload: [0xFF, 0x0A, 0x00]),
               WireTask(id: 8, slot: 2, name: Array("job".utf8), payload: [])]),
        .stop, .end, .drain, .resume(slot: 3), .recall(id: 12),
        .started(id: 7, pid: 31337),
        .output(id: 7, stream: .stderr, bytes: [0x0A, 0xFE, 0x00]),
        .result(id: 7, status: .returned, bytes: [1, 2, 3]),
        .result(id: 8, status: .threw, bytes: Array("boom".utf8)),
        .result(id: 9, status: .cancelled, bytes: []),
        .result(id: 10, status: .returned, held: true, bytes: [4]),
        .result(id: 12, status: .recalled, bytes: []),
        .initFailed("exit status 3"),
        .goodbye,
    ]

    @Test func everyFrameRoundTripsAndEndsWithANewline() {
        let stream = Self.everyFrame.flatMap { frame -> [UInt8] in
            let bytes = frame.encoded()
            #expect(bytes.last == 0x0A, "\(frame) must end with a newline for line-buffering relays")
            return bytes
        }
        let (frames, error) = readFrames(stream)
        #expect(error == nil)
        #expect(frames == Self.everyFrame)
    }

    static let malformed: [(String, [UInt8], String)] = [
        ("garbage", Array("hello, worker\n".utf8), "limit"),
        ("truncated", Array(Frame.stop.encoded().prefix(7)), "truncated"),
        ("oversized", [0xFF, 0xFF, 0xFF, 0x7F, 0x10], "limit"),
        ("shorter than its header", [3, 0, 0, 0, 0x11, 0, 0, 0], "shorter"),
        ("unknown type", [9, 0, 0, 0, 0x7E, 0, 0, 0, 0, 0, 0, 0, 0, 0x0A], "unknown"),
        ("no newline", Array(Frame.end.encoded().dropLast()) + [0x00], "newline"),
        ("bad payload", [13, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x0A], "truncated"),
        ("bad held flag", [11, 0, 0, 0, 0x22, 7, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x0A], "held flag"),
        ("wrong magic", [13, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x58, 0x58, 0x58, 2, 0x0A], "not a pfutures"),
    ]

    @Test(arguments: malformed)
    func malformedInputIsOneClearError(name: String, bytes: [UInt8], says: String) {
        let (frames, error) = readFrames(Frame.heartbeat.encoded() + bytes)
        #expect(frames == [.heartbeat], "\(name): the good frame before it is still read")
        #expect(error?.description.contains(says) == true, "\(name): \(String(describing: error))")
    }

    @Test func randomBytesNeverCrashOrHang() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            var bytes = (0..<Int.random(in: 0...200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Half the rounds start with a plausible length, so decoding goes deeper than the header.
            if round % 2 == 0 && bytes.count > 14 {
                let n = UInt32(bytes.count - 5)
                bytes.replaceSubrange(0..<4, with: withUnsafeBytes(of: n.littleEndian) { Array($0) })
                bytes[4] = [0x01, 0x02, 0x10, 0x21, 0x22][round % 5]
                bytes[bytes.count - 1] = 0x0A
            }
            _ = readFrames(bytes)  // returns: frames or one error
        }
    }

    @Test func aJobAndItsResultCrossTheWireUnchanged() throws {
        var settings = JobSettings()
        settings.timeout = .milliseconds(1500)
        settings.killAfter = .seconds(3)
        settings.captureOutput = false
        settings.copy.createParents = true
        let jobs = [
            Job(sequence: 7, action: .process(.exec(argv: [Array("echo".utf8), [0xFF, 0x00, 0x41]])), settings: settings),
            Job(sequence: 8, action: .process(.shell(script: Array("echo a; exit 3".utf8))), settings: JobSettings()),
            Job(sequence: 9, action: .copy(source: [0x61, 0xFE], destination: Array("b/".utf8)), settings: settings),
        ]
        for job in jobs { #expect(try Job(decoding: job.encoded()) == job) }
        let results = [
            JobResult(outcome: .exited(3), startedAt: 1.5, runtime: 0.25),
            JobResult(outcome: .signaled(9), startedAt: 2, runtime: 1),
            JobResult(outcome: .timedOut, startedAt: 0, runtime: 1.5),
            JobResult(outcome: .spawnFailed(.notFound), startedAt: 0, runtime: 0),
            JobResult(outcome: .spawnFailed(.cannotRun("E2BIG")), startedAt: 0, runtime: 0),
            JobResult(outcome: .exited(0), startedAt: 3, runtime: 0.5, bytesCopied: 4096),
            JobResult(outcome: .exited(1), startedAt: 3, runtime: 0.5, message: [0xFF, 0x0A]),
        ]
        for result in results { #expect(try Job.decodeOutput(Job.encode(output: result)) == result) }
    }
}
