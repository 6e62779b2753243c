// The worker cap, real overlap, streaming input, and the worker-cap signals.
import Foundation
import Testing

/// Reads a log of "start N"/"end N" lines and returns the most jobs that
/// were between their start and end at once.
private func peakOverlap(_ log: [UInt8]) -> Int {
    var current = 0, peak = 0
    for line in String(decoding: log, as: UTF8.self).split(separator: "\n") {
        if line.hasPrefix("start") { current += 1; peak = max(peak, current) } else { current -= 1 }
    }
    return peak
}

@Suite struct ConcurrencyTests {
    private let logged = "echo start $1 >> log; sleep 0.3; echo end $1 >> log"

    @Test func capIsNeverExceededAndIsReached() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j3", "sh", "-c", logged, "sh"], input: (1...12).map { "\($0)\n" }.joined())
        #expect(r.status == 0, "\(r)")
        let peak = peakOverlap(h.read("log"))
        #expect(peak == 3, "peak overlap \(peak)")
    }

    @Test func jobsOptionSpellingsAgree() throws {
        for option in ["-P2", "--max-workers=2", "--jobs=2"] {
            let h = try Harness()
            _ = try h.run(["run", option, "sh", "-c", logged, "sh"], input: "1\n2\n3\n4\n")
            #expect(peakOverlap(h.read("log")) == 2, "\(option)")
        }
    }

    @Test func zeroMeansNoCap() throws {
        // With --pool process, -j0 means four worker processes per core (documented).
        guard Harness.pool == "thread" else { return }
        let h = try Harness()
        _ = try h.run(["run", "-j0", "sh", "-c", "echo start >> log; sleep 1; echo end >> log", "sh"],
                      input: (1...40).map { "\($0)\n" }.joined())
        #expect(peakOverlap(h.read("log")) > 32, "more than the default cap ran together")
    }

    @Test func firstJobStartsBeforeInputEnds() throws {
        let h = try Harness()
        let pipe = Pipe()
        let (process, out, err) = try h.start(["run", "touch"], stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data("first\n".utf8))
        #expect(h.eventually { h.exists("first") }, "the job ran while stdin was still open")
        pipe.fileHandleForWriting.write(Data("second\n".utf8))
        try pipe.fileHandleForWriting.close()
        let r = h.collect(process, arguments: ["run", "touch"], out: out, err: err)
        #expect(r.status == 0 && h.exists("second"), "\(r)")
    }

    @Test func usr1RaisesTheCapWhileRunning() throws {
        let h = try Harness()
        let pipe = Pipe()
        let job = "echo start >> log; while [ ! -e release ]; do sleep 0.05; done; echo end >> log"
        let (process, out, err) = try h.start(["run", "-j1", "sh", "-c", job, "sh"], stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data("1\n2\n".utf8))
        try pipe.fileHandleForWriting.close()
        #expect(h.eventually { String(decoding: h.read("log"), as: UTF8.self).contains("start") })
        kill(process.processIdentifier, SIGUSR1)
        #expect(h.eventually { peakOverlap(h.read("log")) == 2 }, "the second job started beside the first")
        try h.write("release", "")
        let r = h.collect(process, arguments: [], out: out, err: err)
        #expect(r.status == 0, "\(r)")
    }

    @Test func runningOutOfDescriptorsLowersConcurrencyInsteadOfFailingJobs() throws {
        // 16 descriptors do not hold eight jobs' output pipes: the run says so
        // once, runs fewer at a time, and every job still runs (GNU parallel).
        let h = try Harness()
        h.descriptorLimit = 16
        let r = try h.run(["run", "-j8", "sh", "-c", "sleep 0.2; echo $1", "sh"], input: (1...20).map { "\($0)\n" }.joined())
        #expect(r.status == 0, "\(r)")
        #expect(Set(r.outLines) == Set((1...20).map(String.init)), "\(r)")
        // One warning: fewer jobs at once (threads), or fewer workers (processes).
        let warnings = r.err.split(separator: "\n").filter { !$0.isEmpty }
        #expect(warnings.count == 1 && warnings[0].contains("Too many open files"), "said once: \(r)")
    }

    @Test func runningOutOfProcessesLowersConcurrencyInsteadOfTrapping() throws {
        // #15: with threads short (ulimit -u, EAGAIN) pfutures trapped
        // (status 132, nothing said). Now it runs fewer jobs at once, says
        // so, and every job runs once. The job (perl) forks nothing itself.
        let h = try Harness()
        h.processLimit = 20
        let job = "select undef, undef, undef, 0.2; print \"$ARGV[0]\\n\""
        let r = try h.run(["run", "-j30", "--joblog", "log", "perl", "-e", job], input: (1...40).map { "\($0)\n" }.joined())
        #expect(r.status == 0, "\(r)")
        #expect(r.outLines.sorted { Int($0)! < Int($1)! } == (1...40).map(String.init), "every output once: \(r)")
        let log = String(decoding: h.read("log"), as: UTF8.self).split(separator: "\n").dropFirst()
        #expect(log.count == 40 && log.allSatisfy { $0.split(separator: "\t")[6] == "0" }, "\(log)")
        // Said once per kind of shortage (threads; processes for the jobs), never per job.
        let warnings = r.err.split(separator: "\n").filter { !$0.isEmpty }
        #expect(!warnings.isEmpty && warnings.count <= 2, "\(r)")
        #expect(warnings.contains { $0.contains("Resource temporarily unavailable") }, "\(r)")
    }

    @Test func tooFewDescriptorsToStartIsOneClearError() throws {
        // #15: under ulimit -n 8 pfutures trapped (status 132, nothing said).
        let h = try Harness()
        h.descriptorLimit = 8
        let r = try h.run(["run", "echo"], input: "x\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.err.contains("cannot start: pipe: Too many open files (raise ulimit -n)"), "\(r)")
    }
}
