// --delay, --load, --memfree and --progress (also under a real terminal).
import Foundation
import Testing

@Suite struct PacingAndProgressTests {
    @Test func delaySpacesJobStarts() throws {
        let h = try Harness()
        let started = Date()
        _ = try h.run(["run", "-j4", "--delay", "0.3", "true"], input: "1\n2\n3\n4\n")
        #expect(Date().timeIntervalSince(started) >= 0.9, "three gaps of 0.3 s at least")
    }

    @Test func generousLoadAndMemoryLimitsLetJobsRun() throws {
        let r = try Harness().run(["run", "--load", "1000", "--memfree", "1K", "echo"], input: "ok\n")
        #expect(r.out == "ok\n", "\(r)")
        let bad = try Harness().run(["run", "--memfree", "lots", "echo"], input: "x\n")
        #expect(bad.status == 1 && bad.err.contains("--memfree"), "\(bad)")
    }

    @Test func impossibleMemoryLimitHoldsJobsUntilStopped() throws {
        let h = try Harness()
        // All of the machine's memory is never available (the kernel keeps some).
        let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        let totalKiB = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }?
            .split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let r = try h.run(["run", "--memfree", "\(totalKiB * 1024)", "--deadline", "1", "touch"], input: "never\n")
        #expect(r.status == 122, "\(r)")
        #expect(!h.exists("never"))
    }

    @Test func progressPrintsPlainLinesOnStderrOnly() throws {
        let r = try Harness().run(["run", "--progress", "-k", "echo"], input: "a\nb\n")
        #expect(r.out == "a\nb\n", "stdout untouched: \(r)")
        #expect(r.err.contains("pfutures: 2 done, 0 running, 0 failed, 2 read"), "\(r)")
    }

    /// What a terminal shows while `command` (a shell line) runs on it, as
    /// script(1) records it.
    private func terminalScreen(_ command: String) throws -> String {
        let h = try Harness()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, h.file("typescript")]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return String(decoding: h.read("typescript"), as: UTF8.self)
    }

    @Test func progressRedrawsInPlaceOnATerminal() throws {
        let screen = try terminalScreen("seq 3 | \(Harness.binary) run --progress sh -c 'sleep 0.4' > /dev/null")
        #expect(screen.contains("\r\u{1B}[K"), "redrawn in place: \(screen.debugDescription)")
        #expect(screen.contains("3 done"), "\(screen.debugDescription)")
    }

    @Test func jobOutputNeverLandsOnTheStatusLine() throws {
        // Output and status share the terminal: each output line must start
        // on a cleared line, and a final status line ends the run.
        let screen = try terminalScreen("seq 4 | \(Harness.binary) run -j2 --progress sh -c 'sleep 0.6; echo out $1' sh")
        for n in 1...4 {
            #expect(screen.contains("\r\u{1B}[Kout \(n)"), "out \(n) starts on a cleared line: \(screen.debugDescription)")
        }
        #expect(!screen.contains("jobs/sout"), "\(screen.debugDescription)")
        #expect(screen.contains("pfutures: 4 done, 0 running, 0 failed, 4 read"), "a final line: \(screen.debugDescription)")
    }

    @Test func barAndEtaShowTheShareDone() throws {
        let bar = try Harness().run(["run", "--bar", "echo"], input: "a\nb\n")
        #expect(bar.err.contains("pfutures: 100% [####################] 2/2 in "), "\(bar)")
        let eta = try Harness().run(["run", "--eta", "echo"], input: "a\n")
        #expect(eta.err.contains("pfutures: 1 done, 0 running, 0 failed, 1 read"), "\(eta)")
    }

    @Test func aMemfreeNoMachineCanMeetIsAnErrorNotAnEndlessWait() throws {
        let r = try Harness().run(["run", "--memfree", "100T", "true"], input: "a\n")
        #expect(r.status == 1 && r.err.contains("--memfree: ") && r.err.contains("more than this machine's memory"), "\(r)")
    }

    @Test func anArgFileThatIsADirectoryIsNamed() throws {
        let h = try Harness()
        try FileManager.default.createDirectory(atPath: h.file("dir"), withIntermediateDirectories: true)
        let r = try h.run(["run", "-a", "dir", "echo"], input: "")
        #expect(r.status == 1 && r.err.contains("cannot read dir: Is a directory"), "\(r)")
    }
}
