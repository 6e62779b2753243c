// Output modes: grouped blocks, whole lines, order, tags, and a closed stdout.
import Foundation
import Testing

@Suite struct OutputTests {
    private let slowPrinter = "for i in 1 2 3 4 5; do echo $1-$i; sleep 0.02; done"

    @Test func groupedOutputOfSlowJobsNeverMixes() throws {
        let r = try Harness().run(["run", "-j4", "sh", "-c", slowPrinter, "sh"], input: "a\nb\nc\nd\n")
        let lines = r.outLines
        #expect(lines.count == 20, "\(r)")
        for block in stride(from: 0, to: lines.count, by: 5) {
            let owner = lines[block].split(separator: "-")[0]
            #expect(lines[block..<block + 5].map { $0 } == (1...5).map { "\(owner)-\($0)" }, "\(r)")
        }
    }

    @Test func lineBufferNeverCutsALine() throws {
        let job = "for i in 1 2 3; do printf '%s-' $1; sleep 0.03; printf 'part%s\\n' $i; done"
        let r = try Harness().run(["run", "-j3", "--line-buffer", "sh", "-c", job, "sh"], input: "a\nb\nc\n")
        #expect(r.outLines.count == 9, "\(r)")
        for line in r.outLines { #expect(line.wholeMatch(of: /[abc]-part[123]/) != nil, "\(r)") }
    }

    @Test func keepOrderFollowsInputAndDefaultFollowsCompletion() throws {
        // Job 1 ends well after job 2 has ended (generous margin for a loaded machine).
        let job = "if [ $1 = 1 ]; then while [ ! -e done.2 ]; do sleep 0.02; done; sleep 1; fi; echo $1; touch done.$1"
        let ordered = try Harness().run(["run", "-j2", "-k", "sh", "-c", job, "sh"], input: "1\n2\n")
        #expect(ordered.out == "1\n2\n", "\(ordered)")
        let completion = try Harness().run(["run", "-j2", "sh", "-c", job, "sh"], input: "1\n2\n")
        #expect(completion.out == "2\n1\n", "\(completion)")
    }

    @Test func keepOrderHoldsLargeOutputs() throws {
        // 20 jobs of 1 MiB each, the first finishing last: held blocks spill to files.
        let job = "if [ $1 = 1 ]; then sleep 0.5; fi; head -c 1048576 /dev/zero | tr '\\0' $1"
        let r = try Harness().run(["run", "-j4", "-k", "sh", "-c", job, "sh"],
                                  input: (1...9).map { "\($0)\n" }.joined())
        #expect(r.stdout.count == 9 * 1_048_576, "\(r.stdout.count)")
        #expect(r.stdout.first == 0x31 && r.stdout.last == 0x39)
        #expect(r.stdout == Array((1...9).map { [UInt8](repeating: 0x30 + UInt8($0), count: 1_048_576) }.joined()))
    }

    @Test func tagPrefixesEveryLineWithTheRecord() throws {
        let r = try Harness().run(["run", "-k", "--tag", "sh", "-c", "echo one; echo two >&2; echo three", "sh"],
                                  input: "r1\n")
        #expect(r.out == "r1\tone\nr1\tthree\n", "\(r)")
        #expect(r.err == "r1\ttwo\n", "\(r)")
    }

    @Test func ungroupedWritesStraightThrough() throws {
        let r = try Harness().run(["run", "-u", "-j1", "echo"], input: "a\nb\n")
        #expect(r.out == "a\nb\n", "\(r)")
    }

    @Test func closedStdoutEndsTheRunQuicklyAndQuietly() throws {
        let h = try Harness()
        let script = "yes | \(Harness.binary) run -j2 sh -c 'echo $1; sleep 1' sh | head -1"
        let started = Date()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = h.directory
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(started) < 15, "pfutures stopped its sleeping jobs")
        #expect(err.fileHandleForReading.readDataToEndOfFile().isEmpty, "no error message")
    }
}

@Suite struct KeepOrderMemoryTests {
    /// The most resident memory a running process reached, in KiB.
    private func peakRSS(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    @Test func heldOutputBehindASlowJobStaysOutOfMemory() throws {
        // Job 1 waits until every other job has finished; 1500 jobs of 40 KiB
        // (60 MiB) are held meanwhile, and must come out whole and in order.
        let h = try Harness()
        let count = 1500
        let job = "if [ $1 = 1 ]; then while [ $(ls done 2>/dev/null | wc -l) -lt \(count - 1) ]; do sleep 0.05; done; fi; "
            + "head -c 40960 /dev/zero | tr '\\0' x; echo \" $1\"; mkdir -p done; touch done/$1"
        let pipe = Pipe()
        let (process, out, err) = try h.start(["run", "-k", "-j4", "sh", "-c", job, "sh"], stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data((1...count).map { "\($0)\n" }.joined().utf8))
        try pipe.fileHandleForWriting.close()
        nonisolated(unsafe) var peak = 0
        let watcher = Thread {
            while process.isRunning { peak = max(peak, peakRSS(process.processIdentifier)); usleep(50_000) }
        }
        watcher.start()
        let r = h.collect(process, arguments: ["run", "-k"], out: out, err: err)
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == count)
        #expect(lines.enumerated().allSatisfy { $0.element.hasSuffix(" \($0.offset + 1)") }, "in input order")
        #expect(r.stdout.count == count * (40960 + 2) + (1...count).map { String($0).count }.reduce(0, +))
        #expect(peak < 48 * 1024, "peak RSS \(peak) KiB while holding 60 MiB of output")
    }

    @Test func aVeryLongLineCostsLinearTimeWithLineBuffer() throws {
        // 64 MiB in one line: quadratic copying took minutes (#15); now about a second.
        let started = Date()
        let r = try Harness().run(["run", "--line-buffer", "sh", "-c", "head -c 67108864 /dev/zero | tr '\\0' x; echo"],
                                  input: "go\n")
        #expect(r.status == 0)
        #expect(r.stdout.count == 67_108_865 && r.stdout.first == 0x78 && r.stdout.last == 0x0A, "\(r.stdout.count) bytes")
        #expect(Date().timeIntervalSince(started) < 40, "generous bound, far below the old minutes")
    }

    @Test func aSpillFileThatCannotGrowLosesAndDoublesNothing() throws {
        // A 1 MiB file-size limit stops the spill file of a 2.6 MB output part
        // way (EFBIG, as a full TMPDIR would): every byte comes out once, in order.
        let h = try Harness()
        h.fileSizeLimitKiB = 1024
        let r = try h.run(["run", "-k", "sh", "-c", "seq 1 400000"], input: "x\n")
        #expect(r.status == 0, "\(r.err)")
        let expected = (1...400_000).map { "\($0)\n" }.joined()
        #expect(r.out == expected, "\(r.stdout.count) bytes, \(Array(expected.utf8).count) expected")
    }
}
