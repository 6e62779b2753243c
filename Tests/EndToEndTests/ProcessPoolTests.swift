// What is particular to --pool process: a worker killed mid-job loses only
// that job, workers are replaced after --max-tasks-per-child, --chunksize
// changes nothing in the results, a job queued behind a long one runs in
// another slot, and garbage on a worker's stdin ends it
// with a clear error instead of a hang or a crash.
import Foundation
import Testing

@Suite struct ProcessPoolTests {
    @Test func workerKilledMidJobLosesOnlyThatJob() throws {
        let h = try Harness()
        // Job 3 kills its own worker (its parent) and waits; the rest finish.
        let job = "if [ $1 = 3 ]; then kill -9 $PPID; sleep 5; fi; touch done.$1"
        let r = try h.run(["run", "--pool", "process", "-j2", "sh", "-c", job, "sh"],
                          input: (1...8).map { "\($0)\n" }.joined())
        #expect(r.status == 1, "a lost job is a broken-pool failure: \(r)")
        #expect(h.files(prefix: "done.") == (1...8).filter { $0 != 3 }.map { "done.\($0)" }.sorted(), "\(r)")
        #expect(r.err.contains("job 3 lost: worker process") && r.err.contains("killed by signal 9"), "\(r)")
        #expect(r.err.contains("(BrokenProcessPool)"), "\(r)")
        #expect(r.err.contains("sh -c"), "the lost job's command is named: \(r)")
    }

    @Test func aJobWaitingBehindALongOneRunsElsewhere() throws {
        let h = try Harness()
        // Job 1 runs until the seven others are done (a minute at most); a job
        // sent to its worker to wait behind it must be taken back and run in
        // the other slot, or job 1 never sees all seven.
        let job = "if [ $1 = 1 ]; then i=0; while [ $(ls | grep -c '^done') -lt 7 ] && [ $i -lt 600 ]; do "
            + "sleep 0.1; i=$((i+1)); done; [ $i -lt 600 ] && touch saw-all; fi; touch done.$1"
        let r = try h.run(["run", "--pool", "process", "-j2", "sh", "-c", job, "sh"],
                          input: (1...8).map { "\($0)\n" }.joined())
        #expect(r.status == 0, "\(r)")
        #expect(h.exists("saw-all"), "a job waited behind the long one: \(r)")
        #expect(h.files(prefix: "done.").count == 8, "\(r)")
    }

    @Test func nothingWaitingInAWorkerStartsAfterAHaltEvenWhenTheWorkerIsUsedUp() throws {
        let h = try Harness()
        // The worker's third job waits behind the failing second one; the
        // worker is then used up (--max-tasks-per-child 3), and the halt must
        // still come before that third job starts.
        let job = "touch ran.$0; if [ $0 = 2 ]; then exit 1; fi; sleep 0.3"
        for round in 1...3 {
            try? FileManager.default.removeItem(atPath: h.file("ran.3"))
            let r = try h.run(["run", "--pool", "process", "-j1", "--max-tasks-per-child", "3", "--halt", "now,fail=1",
                               "sh", "-c", job], input: "1\n2\n3\n4\n")
            #expect(r.status == 123, "a job failed: round \(round): \(r)")
            #expect(!h.exists("ran.3") && !h.exists("ran.4"), "round \(round): a job started after the halt: \(r)")
        }
    }

    @Test func frozenWorkerLosesItsJobWithinTheHeartbeatWindow() throws {
        let h = try Harness()
        // Job 2 freezes its worker (SIGSTOP) and would then sleep a minute;
        // the worker falls silent, so after --worker-timeout its job is lost,
        // its process group killed, and the other jobs finish.
        let job = "if [ $1 = 2 ]; then echo $$ > frozen.pid; kill -STOP $PPID; sleep 60; fi; touch done.$1"
        let started = Date()
        let r = try h.run(["run", "--pool", "process", "-j2", "--worker-timeout", "2", "sh", "-c", job, "sh"],
                          input: (1...6).map { "\($0)\n" }.joined())
        let seconds = Date().timeIntervalSince(started)
        #expect(r.status == 1, "\(r)")
        #expect(h.files(prefix: "done.") == [1, 3, 4, 5, 6].map { "done.\($0)" }, "\(r)")
        #expect(r.err.contains("job 2 lost: worker process") && r.err.contains("silent"), "\(r)")
        #expect(seconds < 45, "did not wait for the frozen job's sleep: \(seconds) s")
        let pid = try #require(Int32(String(decoding: h.read("frozen.pid"), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0..<200 where !gone {
            gone = kill(pid, 0) != 0
            if !gone { usleep(50_000) }
        }
        #expect(gone, "the frozen job's process (\(pid)) did not outlive its worker")
    }

    @Test func stoppingPfuturesLongerThanTheWindowKeepsItsJobs() throws {
        let h = try Harness()
        // pfutures itself is stopped (as by Ctrl-Z) three times as long as
        // --worker-timeout while its job runs: its local workers keep the
        // job, which finishes once pfutures goes on.
        let pipe = Pipe()
        let (process, out, err) = try h.start(["run", "--pool", "process", "--worker-timeout", "1",
                                               "sh", "-c", "touch started; sleep 4; touch done"],
                                              stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data("x\n".utf8))
        try pipe.fileHandleForWriting.close()
        #expect(h.eventually { h.exists("started") })
        kill(process.processIdentifier, SIGSTOP)
        sleep(3)
        kill(process.processIdentifier, SIGCONT)
        let r = h.collect(process, arguments: [], out: out, err: err)
        #expect(r.status == 0, "\(r)")
        #expect(h.exists("done"), "the job was stopped while pfutures was: \(r)")
    }

    @Test func aWorkerThatCannotStartLeavesTheOthersRunning() throws {
        // 15 descriptors hold pfutures and a worker or three, not four: the
        // run says why it has fewer workers, and every job still runs.
        let h = try Harness()
        h.descriptorLimit = 15
        let r = try h.run(["run", "--pool", "process", "-j4", "sh", "-c", "echo $PPID"],
                          input: (1...8).map { "\($0)\n" }.joined())
        #expect(r.status == 0, "\(r)")
        #expect(r.outLines.count == 8, "\(r)")
        #expect(Set(r.outLines).count < 4, "fewer than four workers ran: \(r)")
        #expect(r.err.contains("cannot start a worker process: Too many open files; going on with the workers running"),
                "\(r)")
    }

    @Test func maxTasksPerChildGivesEachJobANewWorker() throws {
        let r = try Harness().run(["run", "--pool", "process", "-j2", "--max-tasks-per-child", "1",
                                   "sh", "-c", "echo $PPID"], input: (1...6).map { "\($0)\n" }.joined())
        #expect(r.status == 0, "\(r)")
        #expect(Set(r.outLines).count == 6, "six jobs, six worker pids: \(r)")
    }

    @Test func workersAreReusedWithoutTheLimit() throws {
        let r = try Harness().run(["run", "--pool", "process", "-j2", "sh", "-c", "echo $PPID"],
                                  input: (1...10).map { "\($0)\n" }.joined())
        #expect(Set(r.outLines).count <= 2, "\(r)")
    }

    @Test(arguments: [1, 3, 50])
    func chunksizeLeavesResultsIdentical(chunksize: Int) throws {
        let h = try Harness()
        let r = try h.run(["run", "--pool", "process", "-j3", "--chunksize", "\(chunksize)", "-k",
                           "--joblog", "log", "sh", "-c", "echo $1; exit $(($1 % 4 == 0))", "sh"],
                          input: (1...40).map { "\($0)\n" }.joined())
        #expect(r.out == (1...40).map { "\($0)\n" }.joined(), "\(r)")
        #expect(r.status == 123)
        #expect(String(decoding: h.read("log"), as: UTF8.self).split(separator: "\n").count == 41)
    }

    @Test func chunksizeNeedsTheProcessPool() throws {
        let r = try Harness().run(["run", "--pool", "thread", "--chunksize", "2", "true"], input: "")
        #expect(r.status == 1 && r.err.contains("--chunksize"), "\(r)")
    }

    @Test func copiesRunInWorkersToo() throws {
        let h = try Harness()
        try h.write("a", "alpha")
        let r = try h.run(["copy", "--pool", "process"], input: "a\tb\nmissing\tc\n")
        #expect(r.status == 123, "\(r)")
        #expect(h.read("b") == Array("alpha".utf8))
        #expect(r.err.contains("copy missing -> c: No such file or directory"), "\(r)")
    }

    /// Runs a worker directly with `input` on its stdin; returns its status,
    /// stderr, stdout and how long it took.
    private func worker(_ input: [UInt8], keepInputOpen: Bool = false) throws -> (Int32, String, [UInt8], Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.binary)
        process.arguments = ["__pfutures-worker"]
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        let started = Date()
        try process.run()
        inPipe.fileHandleForWriting.write(Data(input))
        if !keepInputOpen { try inPipe.fileHandleForWriting.close() }
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try? inPipe.fileHandleForWriting.close()
        return (process.terminationStatus, err, Array(out), Date().timeIntervalSince(started))
    }

    /// One protocol frame: u32 length | u8 type | u64 id | payload | newline.
    private static func frame(_ type: UInt8, id: UInt64 = 0, _ payload: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: UInt32(payload.count + 9).littleEndian) { Array($0) } + [type]
            + withUnsafeBytes(of: id.littleEndian) { Array($0) } + payload + [0x0A]
    }

    /// SETUP: magic, version, heartbeat interval and window (ns), slots, no initializer.
    /// The worker protocol version the binary speaks (WorkerProtocol.swift).
    private static let version: UInt8 = 4

    private static func setup(version: UInt8 = version, windowSeconds: UInt64 = 60) -> [UInt8] {
        let interval = withUnsafeBytes(of: UInt64(1_000_000_000).littleEndian) { Array($0) }
        let window = withUnsafeBytes(of: (windowSeconds * 1_000_000_000).littleEndian) { Array($0) }
        return frame(0x02, Array("PFW".utf8) + [version] + interval + window + [1, 0, 0, 0, 0])
    }

    /// Input a worker must refuse, each with one clear message and status 2.
    private static let malformed: [(String, [UInt8])] = {
        var cases: [(String, [UInt8])] = []
        cases.append(("garbage", Array("hello, worker\n".utf8)))
        cases.append(("jobs before setup", frame(0x10, [0, 0, 0, 0])))
        cases.append(("truncated", setup() + [20, 0, 0, 0, 0x10, 1, 0]))
        cases.append(("oversized", setup() + [0xFF, 0xFF, 0xFF, 0x7F, 0x10]))
        cases.append(("unknown type", setup() + frame(0x7E)))
        cases.append(("empty frame", setup() + [0, 0, 0, 0]))
        cases.append(("no newline", setup() + Array(frame(0x03).dropLast()) + [0x00]))
        cases.append(("bad jobs payload", setup() + frame(0x10, [1, 0, 0, 0, 9, 9, 9])))
        cases.append(("frame meant for pfutures", setup() + frame(0x24)))
        return cases
    }()

    @Test(arguments: malformed)
    func malformedFramesEndTheWorkerClearly(name: String, input: [UInt8]) throws {
        let (status, err, _, seconds) = try worker(input)
        #expect(status == 2, "\(name)")
        #expect(err.hasPrefix("pfutures: worker: protocol error: ") && err.split(separator: "\n").count == 1,
                "\(name): \(err)")
        #expect(seconds < 20, "\(name): no hang")
    }

    @Test func wrongVersionIsOneClearError() throws {
        let (status, err, out, _) = try worker(Self.setup(version: 9) + Self.frame(0x12))
        #expect(status == 2)
        #expect(err.contains("protocol version 9") && err.contains("this worker \(Self.version)"), "\(err)")
        // The worker still says HELLO with its own version, so pfutures can name both.
        #expect(out.count > 18 && out[4] == 0x01 && Array(out[13..<17]) == Array("PFW".utf8) + [Self.version], "\(out)")
    }

    @Test func cleanEndOfInputEndsTheWorkerQuietly() throws {
        let (status, err, out, _) = try worker(Self.setup() + Self.frame(0x12))  // END
        #expect(status == 0 && err.isEmpty, "\(err)")
        #expect(out.suffix(14) == Self.frame(0x24)[...], "GOODBYE is the last frame: \(out)")
    }

    @Test func workerExitsWhenPfuturesFallsSilent() throws {
        // A one-second window and no heartbeat from "pfutures": the worker must give up by itself.
        let (status, err, _, seconds) = try worker(Self.setup(windowSeconds: 1), keepInputOpen: true)
        #expect(status == 1)
        #expect(err.contains("no word from pfutures"), "\(err)")
        #expect(seconds < 30, "gave up within a generous bound: \(seconds) s")
    }
}
