// Signals to pfutures: forwarded, nothing new starts, 128+N; jobs never
// outlive pfutures, even one killed with SIGKILL; no descriptor leaks in.
import Foundation
import Testing

@Suite struct SignalTests {
    /// Starts 20 jobs at -j2 that each become a `sleep 60` named `marker`
    /// (a symlink to sleep), so their processes can be found by name.
    private func startSleepers(_ h: Harness, marker: String, jobs: Int = 2) throws -> (Process, Pipe, Pipe, Pipe) {
        try FileManager.default.createSymbolicLink(atPath: h.file(marker), withDestinationPath: "/bin/sleep")
        let pipe = Pipe()
        let args = ["run", "-j\(jobs)", "sh", "-c", "touch started.$1; exec ./\(marker) 60", "sh"]
        let (process, out, err) = try h.start(args, stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data((1...20).map { "\($0)\n" }.joined().utf8))
        return (process, out, err, pipe)
    }

    @Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130)), (SIGHUP, Int32(129))])
    func stopSignalIsForwardedAndNothingNewStarts(signal: Int32, status: Int32) throws {
        let h = try Harness()
        let marker = "pf-signal-\(UUID().uuidString.prefix(8))"
        let (process, out, err, pipe) = try startSleepers(h, marker: marker)
        #expect(h.eventually { h.files(prefix: "started.").count == 2 })
        kill(process.processIdentifier, signal)
        let r = h.collect(process, arguments: ["signal \(signal)"], out: out, err: err)
        try? pipe.fileHandleForWriting.close()
        #expect(r.status == status, "\(r)")
        #expect(h.files(prefix: "started.").count == 2, "no job started after the signal")
        #expect(h.eventually(10) { processes(matching: marker, programOnly: true).isEmpty })
    }

    /// Before the first record nothing has started (and no watching thread
    /// runs): a stop signal still ends the run with 128+N, an exit, not a
    /// death by the signal; SIGUSR1 there changes the cap and kills nothing.
    @Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130)), (SIGHUP, Int32(129)), (SIGUSR1, Int32(0))])
    func signalWhileWaitingForTheFirstRecord(signal: Int32, status: Int32) throws {
        let h = try Harness()
        let pipe = Pipe()
        let (process, out, err) = try h.start(["run", "touch"], stdin: pipe.fileHandleForReading)
        // Blocked in poll(2) (syscall 7) on its empty stdin.
        let pid = process.processIdentifier
        #expect(h.eventually { (try? String(contentsOfFile: "/proc/\(pid)/syscall", encoding: .utf8))?.hasPrefix("7 ") == true })
        kill(pid, signal)
        if signal == SIGUSR1 {
            #expect(h.eventually { (try? String(contentsOfFile: "/proc/\(pid)/syscall", encoding: .utf8))?.hasPrefix("7 ") == true })
            pipe.fileHandleForWriting.write(Data("ran\n".utf8))
        }
        try? pipe.fileHandleForWriting.close()
        let r = h.collect(process, arguments: ["signal \(signal) before any record"], out: out, err: err)
        #expect(process.terminationReason == .exit, "pfutures exits, it is not killed by the signal")
        #expect(r.status == status, "\(r)")
        #expect(h.exists("ran") == (signal == SIGUSR1), "a job ran only after SIGUSR1")
    }

    /// Options that read ahead before a job can start (--shuf reads all
    /// input; -n 2 waits for a second record) stop on a signal as the run
    /// does: 128+N, not a death by the signal, and -n's first job, read in
    /// part, is accounted for in --events.
    @Test(arguments: [["--shuf"], ["-n", "2"]])
    func stopSignalWhileReadingAheadStopsTheRun(options: [String]) throws {
        let h = try Harness()
        let pipe = Pipe()
        let (process, out, err) = try h.start(["run", "--events", "events"] + options + ["touch"],
                                              stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data("ran\n".utf8))
        let pid = process.processIdentifier
        #expect(h.eventually { (try? String(contentsOfFile: "/proc/\(pid)/syscall", encoding: .utf8))?.hasPrefix("7 ") == true })
        kill(pid, SIGTERM)
        let ended = h.eventually { !process.isRunning }
        try? pipe.fileHandleForWriting.close()
        let r = h.collect(process, arguments: options + ["SIGTERM while reading"], out: out, err: err)
        #expect(ended, "pfutures ended on the signal, not at the end of its input")
        #expect(process.terminationReason == .exit)
        #expect(r.status == 143, "\(r)")
        #expect(!h.exists("ran"), "no job started")
        if options.first == "-n" {
            let events = String(decoding: h.read("events"), as: UTF8.self)
            #expect(events.contains("\"seq\":1"), "the record read is accounted for: \(events)")
        }
    }

    @Test func sigintReachesJobsWhenPfuturesStartedWithItIgnored() throws {
        // `pfutures run ... &` in a script starts with SIGINT ignored; a
        // SIGINT sent to it must still stop its jobs (#15).
        let h = try Harness()
        h.startsWithInterruptIgnored = true
        let marker = "pf-sigint-\(UUID().uuidString.prefix(8))"
        let (process, out, err, pipe) = try startSleepers(h, marker: marker)
        #expect(h.eventually { h.files(prefix: "started.").count == 2 })
        let sent = Date()
        kill(process.processIdentifier, SIGINT)
        let r = h.collect(process, arguments: ["SIGINT"], out: out, err: err)
        try? pipe.fileHandleForWriting.close()
        #expect(r.status == 130, "\(r)")
        #expect(Date().timeIntervalSince(sent) < 30, "the jobs (sleep 60) got the SIGINT and ended")
        #expect(h.eventually(10) { processes(matching: marker, programOnly: true).isEmpty })
    }

    @Test func secondSignalKillsJobsThatIgnoreTheFirst() throws {
        let h = try Harness()
        let pipe = Pipe()
        let job = "trap '' INT; touch started; sleep 60; sleep 60"
        let (process, out, err) = try h.start(["run", "-j1"], stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data((job + "\n").utf8))
        #expect(h.eventually { h.exists("started") })
        kill(process.processIdentifier, SIGINT)
        usleep(200_000)
        kill(process.processIdentifier, SIGINT)
        let started = Date()
        let r = h.collect(process, arguments: ["double SIGINT"], out: out, err: err)
        try? pipe.fileHandleForWriting.close()
        #expect(r.status == 130, "\(r)")
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func jobsDieWithAPfuturesKilledBySigkill() throws {
        let h = try Harness()
        let marker = "pf-orphan-\(UUID().uuidString.prefix(8))"
        let (process, _, _, pipe) = try startSleepers(h, marker: marker)
        #expect(h.eventually { processes(matching: marker, programOnly: true).count == 2 })
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? pipe.fileHandleForWriting.close()
        #expect(h.eventually(10) { processes(matching: marker, programOnly: true).isEmpty }, "no orphan lives on")
    }

    @Test func grandchildrenDieWithAPfuturesKilledBySigkill() throws {
        let h = try Harness()
        let marker = "pf-grandchild-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createSymbolicLink(atPath: h.file(marker), withDestinationPath: "/bin/sleep")
        let pipe = Pipe()
        // The shell stays in between: the sleeps are grandchildren of pfutures.
        let (process, _, _) = try h.start(["run", "-j2"], stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data("./\(marker) 60; true\n./\(marker) 61; true\n".utf8))
        #expect(h.eventually { processes(matching: marker, programOnly: true).count == 2 })
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? pipe.fileHandleForWriting.close()
        #expect(h.eventually(10) { processes(matching: marker, programOnly: true).isEmpty }, "no grandchild lives on")
    }

    @Test func backgroundDaemonsOfFinishedJobsAreLeftAlone() throws {
        // xargs leaves what a finished job started in the background; so do we.
        let h = try Harness()
        let marker = "pf-daemon-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createSymbolicLink(atPath: h.file(marker), withDestinationPath: "/bin/sleep")
        let r = try h.run(["run", "-u"], input: "./\(marker) 30 >/dev/null 2>&1 &\n")
        #expect(r.status == 0, "\(r)")
        usleep(300_000)
        let left = processes(matching: marker, programOnly: true)
        #expect(left.count == 1)
        for pid in left { kill(pid, SIGKILL) }
    }

    @Test func jobsInheritNoDescriptorOfPfutures() throws {
        // The harness starts pfutures with only 0-2 open, so whatever the job
        // sees beyond those came from pfutures.
        let r = try Harness().run(["run", "sh", "-c", "ls /proc/self/fd"], input: "x\n")
        // 0-2 are the job's stdio; 3 is the directory ls itself opened.
        #expect(Set(r.out.split(separator: "\n")) == ["0", "1", "2", "3"], "\(r)")
    }
}
