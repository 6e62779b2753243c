// What is particular to --pool process: a worker killed mid-job loses only
// that job, workers are replaced after --max-tasks-per-child, --chunksize
// changes nothing in the results, and garbage on a worker's stdin ends it
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

    /// Runs a worker directly with `input` on its stdin.
    private func worker(_ input: [UInt8]) throws -> (Int32, String, Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.binary)
        process.arguments = ["__pfutures-worker", "shell", "/bin/sh", "copy", "="]
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        let started = Date()
        try process.run()
        inPipe.fileHandleForWriting.write(Data(input))
        try inPipe.fileHandleForWriting.close()
        _ = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, err, Date().timeIntervalSince(started))
    }

    @Test(arguments: [
        ("garbage", Array("hello, worker\n".utf8)),
        ("truncated", [20, 0, 0, 0, 0x10, 1, 0]),
        ("oversized", [0xFF, 0xFF, 0xFF, 0x7F, 0x10]),
        ("unknown type", [1, 0, 0, 0, 0x7E]),
        ("empty frame", [0, 0, 0, 0]),
        ("bad job", [9, 0, 0, 0, 0x10, 1, 0, 0, 0, 9, 9, 9, 9]),
    ])
    func malformedFramesEndTheWorkerClearly(name: String, input: [UInt8]) throws {
        let (status, err, seconds) = try worker(input)
        #expect(status != 0, "\(name)")
        #expect(err.contains("protocol error"), "\(name): \(err)")
        #expect(seconds < 20, "\(name): no hang")
    }

    @Test func cleanEndOfInputEndsTheWorkerQuietly() throws {
        let (status, err, _) = try worker([1, 0, 0, 0, 0x13])  // END
        #expect(status == 0 && err.isEmpty, "\(err)")
    }
}
