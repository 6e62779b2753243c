// Jobs on other hosts (SPEC 2.8) through real engines: an sshd on 127.0.0.1
// whose two aliases are two hosts, a user's --launcher, and a two-node Slurm.
// Every job runs exactly once; a host whose worker is killed or frozen loses
// exactly the jobs it was running, and only those.
import Foundation
import Testing

/// A job that records its worker's pid (its parent) and waits for `go`.
private func waitingJob(_ h: Harness) -> [String] {
    ["sh", "-c", "echo $PPID > \(h.path)/pid.$1 && mv \(h.path)/pid.$1 \(h.path)/started.$1; "
        + waitFor("\(h.path)/go") + "; echo $1", "sh"]
}

/// Shell that waits up to a minute for `path` to exist, then goes on (a
/// scheduling bug fails the test instead of hanging it).
private func waitFor(_ path: String) -> String {
    "n=0; while [ ! -e \(path) ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done"
}

/// Runs `arguments` over `jobs` records; once `running` jobs have started,
/// sends `signal` to the worker of job 1 and lets every job go. Returns the
/// result, the jobs that worker was running, its pid, and the seconds from
/// the signal to the end of the run.
private func hitWorker(_ h: Harness, _ arguments: [String], jobs: Int, running: Int, signal: Int32) throws
    -> (RunResult, Set<Int>, Int32, Double) {
    let input = Pipe()
    let (process, out, err) = try h.start(arguments, stdin: input.fileHandleForReading)
    input.fileHandleForWriting.write(Data((1...jobs).map { "\($0)\n" }.joined().utf8))
    try input.fileHandleForWriting.close()
    let allStarted = h.eventually(60) { h.files(prefix: "started.").count >= running }
    func worker(_ seq: Int) -> Int32? {
        Int32(String(decoding: h.read("started.\(seq)"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
    let victim = allStarted ? worker(1) ?? 0 : 0
    let held = Set((1...jobs).filter { h.exists("started.\($0)") && worker($0) == victim })
    if victim > 0 { kill(victim, signal) }
    let hit = Date()
    try h.write("go", "")
    let result = h.collect(process, arguments: arguments, out: out, err: err)
    #expect(allStarted && victim > 0, "\(running) jobs never started: \(result)")
    return (result, held, victim, Date().timeIntervalSince(hit))
}

@Suite struct SSHWorkerTests {
    @Test func everyJobRunsOnceAcrossTwoHostsWithItsBytesIntact() throws {
        let h = try Harness()
        let sshd = try TestSSHD(in: h)
        // Records with every quoting hazard, a newline and bytes that are not UTF-8.
        let records: [[UInt8]] = [Array("a b".utf8), Array("it's".utf8), Array("$HOME".utf8), Array("back\\slash".utf8),
                                  Array("tab\tx".utf8), Array("line\nbreak".utf8), [0xFF, 0xFE, 0x41], Array("*".utf8)]
        let r = try h.run(["run", "-0", "-k", "-S", "2/h1,2/h2", "--joblog", "log"] + sshd.options + ["printf", "<%s>\\n"],
                          input: records.flatMap { $0 + [0] })
        #expect(r.status == 0, "\(r)")
        let expected: [UInt8] = records.flatMap { (record: [UInt8]) -> [UInt8] in [0x3C] + record + [0x3E, 0x0A] }
        #expect(r.stdout == expected, "argv crossed ssh unchanged: \(r)")
        let rows = jobLogRows(h, "log")
        #expect(rows.map(\.seq).sorted() == Array(1...8), "each job once: \(rows)")
        #expect(Set(rows.map(\.host)).isSubset(of: ["h1", "h2"]), "\(rows)")
    }

    @Test func bothHostsTakeJobs() throws {
        let h = try Harness()
        let sshd = try TestSSHD(in: h)
        // Job 1 holds its host's only slot until job 2 has started: job 2
        // can only have run on the other host.
        let job = "touch \(h.path)/started.$1; if [ $1 = 1 ]; then \(waitFor("\(h.path)/started.2")); fi"
        let r = try h.run(["run", "-S", "1/h1", "-S", "1/h2", "--joblog", "log"] + sshd.options + ["sh", "-c", job, "sh"],
                          input: "1\n2\n3\n4\n")
        #expect(r.status == 0, "\(r)")
        let rows = jobLogRows(h, "log")
        #expect(rows.count == 4 && Set(rows.map(\.host)) == ["h1", "h2"], "\(rows)")
        #expect(rows.first { $0.seq == 1 }?.host != rows.first { $0.seq == 2 }?.host, "\(rows)")
    }

    @Test func aKilledHostLosesExactlyTheJobsItWasRunning() throws {
        let h = try Harness()
        let sshd = try TestSSHD(in: h)
        let (r, held, _, _) = try hitWorker(h, ["run", "-S", "2/h1,2/h2", "--joblog", "log"] + sshd.options + waitingJob(h),
                                            jobs: 8, running: 4, signal: SIGKILL)
        #expect(r.status == 1, "lost jobs are pfutures' own failure: \(r)")
        #expect(held.count == 2, "the killed worker ran two jobs: \(held)")
        let rows = jobLogRows(h, "log")
        #expect(rows.map(\.seq).sorted() == Array(1...8), "one job-log line per job: \(rows)")
        let lost = rows.filter { $0.exit == -1 }
        #expect(Set(lost.map(\.seq)) == held, "exactly its jobs are lost: \(rows)")
        let deadHost = try #require(lost.first?.host)
        #expect(["h1", "h2"].contains(deadHost) && lost.allSatisfy { $0.host == deadHost }, "lost rows name the host: \(rows)")
        #expect(rows.filter { $0.seq > 4 }.allSatisfy { $0.host != deadHost && $0.exit == 0 },
                "no later job went to the lost host: \(rows)")
        #expect(r.err.contains("host \(deadHost):") && r.err.contains("no further job goes there"), "\(r)")
        for seq in held { #expect(r.err.contains("job \(seq) lost: host \(deadHost)"), "\(r)") }
    }

    @Test func aFrozenHostIsFoundWithinTheWindowAndRetriesFinishEveryJob() throws {
        let h = try Harness()
        let sshd = try TestSSHD(in: h)
        let (r, held, victim, seconds) = try hitWorker(
            h, ["run", "-S", "2/h1,2/h2", "--worker-timeout", "2", "--retries", "2", "--joblog", "log"] + sshd.options
                + waitingJob(h), jobs: 8, running: 4, signal: SIGSTOP)
        defer { kill(victim, SIGKILL) }
        #expect(r.status == 0, "every job done on the other host: \(r)")
        let rows = jobLogRows(h, "log")
        #expect(rows.map(\.seq).sorted() == Array(1...8) && rows.allSatisfy { $0.exit == 0 }, "\(rows)")
        #expect(r.err.contains("silent for "), "\(r)")
        // Slurm takes ~25 s to notice a frozen node; heartbeats take the window.
        #expect(seconds < 20, "a frozen host was noticed after \(seconds) s")
        #expect(held.count == 2, "\(held)")
        // Thawed, the worker finds its connection gone and exits.
        kill(victim, SIGCONT)
        #expect(h.eventually(30) { kill(victim, 0) != 0 }, "the thawed worker \(victim) is still there")
    }

    @Test func aHostOfUnknownSizeStartsOneWorkerAndRunsTheInitializerOnce() throws {
        let h = try Harness()
        let sshd = try TestSSHD(in: h)
        // --ssh goes through the shell: a quoted path with a space works.
        try FileManager.default.createDirectory(atPath: h.file("my config"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(sshd.directory)/ssh_config", toPath: h.file("my config/ssh_config"))
        let r = try h.run(["run", "-S", "h1", "--ssh", "ssh -F '\(h.file("my config/ssh_config"))'",
                           "--remote-pfutures", Harness.binary, "--initializer", "echo once >> \(h.path)/init.log",
                           "--joblog", "log", "echo"], input: "1\n2\n3\n4\n5\n6\n")
        #expect(r.status == 0 && r.outLines.sorted() == ["1", "2", "3", "4", "5", "6"], "\(r)")
        #expect(String(decoding: h.read("init.log"), as: UTF8.self) == "once\n", "one worker, one initializer run")
        #expect(Set(jobLogRows(h, "log").map(\.host)) == ["h1"])
    }

    @Test func aMissingRemoteBinaryIsOneErrorNamingTheHost() throws {
        let h = try Harness()
        let sshd = try TestSSHD(in: h)
        let r = try h.run(["run", "-S", "h1", "--ssh", "ssh -F \(sshd.directory)/ssh_config",
                           "--remote-pfutures", "/nonexistent/pfutures", "echo"], input: "1\n2\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.err.components(separatedBy: "process pool is broken").count == 2, "said once: \(r)")
        #expect(r.err.contains("host h1:") && r.err.contains("before saying hello"), "\(r)")
        #expect(r.out.isEmpty, "\(r)")
    }

    @Test func workdirAndEnvReachRemoteJobs() throws {
        let h = try Harness()
        let sshd = try TestSSHD(in: h)
        h.environment = ["PF_PASSED": "a b$c"]
        let r = try h.run(["run", "-S", "h1", "--env", "PF_PASSED", "--workdir", ".", "--joblog", "log"] + sshd.options
                          + ["sh", "-c", "printf '%s|%s|%s\\n' \"$PF_PASSED\" \"$(pwd)\" \"$1\"", "sh"], input: "x\n")
        #expect(r.status == 0, "\(r)")
        let here = URL(fileURLWithPath: h.path).resolvingSymlinksInPath().path
        #expect(r.out == "a b$c|\(here)|x\n", "\(r)")
        #expect(jobLogRows(h, "log").map(\.host) == ["h1"])
    }
}

@Suite struct LauncherAndLoginFileTests {
    @Test func aLauncherReplacesSSHAndNamesTheHost() throws {
        let h = try Harness()
        let job = "touch \(h.path)/started.$1; echo $1 $PFHOST; if [ $1 = 1 ]; then \(waitFor("\(h.path)/started.2")); fi"
        let r = try h.run(["run", "--launcher", "env PFHOST={host}", "-S", "1/x,1/y", "--remote-pfutures", Harness.binary,
                           "--joblog", "log", "-k", "sh", "-c", job, "sh"], input: "1\n2\n3\n")
        #expect(r.status == 0, "\(r)")
        let rows = jobLogRows(h, "log")
        #expect(r.outLines.count == 3 && r.outLines.allSatisfy { line in
            rows.contains { "\($0.seq) \($0.host)" == line } }, "each job saw the host it is logged on: \(r) \(rows)")
        #expect(Set(rows.map(\.host)) == ["x", "y"], "\(rows)")
    }

    @Test func aWorkerOfAnotherProtocolVersionIsOneClearError() throws {
        let h = try Harness()
        // A "remote pfutures" that answers with a well-formed HELLO of version 9.
        let hello = "\\031\\0\\0\\0\\001" + String(repeating: "\\0", count: 8) + "PFW\\011\\001\\0\\0\\0\\001\\0\\0\\0\\0\\0\\0\\0\\n"
        try h.write("old-pfutures", "#!/bin/sh\nprintf '\(hello)'\ncat >/dev/null\n")
        chmod(h.file("old-pfutures"), 0o755)
        let r = try h.run(["run", "--launcher", "env", "-S", "old", "--remote-pfutures", h.file("old-pfutures"), "echo"],
                          input: "1\n2\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.err.contains("on host old speaks protocol version 9, this pfutures 4"), "\(r)")
        #expect(r.err.components(separatedBy: "process pool is broken").count == 2, "said once: \(r)")
        #expect(r.out.isEmpty, "\(r)")
    }

    @Test func aLoginFileWithCommentsAndThisMachine() throws {
        let h = try Harness()
        try h.write("logins", "# hosts for the test\n\n1/:   # this machine\n1/far  \n")
        let job = "touch \(h.path)/started.$1; if [ $1 = 1 ]; then \(waitFor("\(h.path)/started.2")); fi"
        let r = try h.run(["run", "--sshloginfile", "logins", "--launcher", "env", "--remote-pfutures", Harness.binary,
                           "--joblog", "log", "sh", "-c", job, "sh"], input: "1\n2\n3\n")
        #expect(r.status == 0, "\(r)")
        #expect(Set(jobLogRows(h, "log").map(\.host)) == [":", "far"], "\(jobLogRows(h, "log"))")
    }

    @Test func badLoginsAndMisplacedOptionsAreUsageErrors() throws {
        let h = try Harness()
        for (arguments, message) in [(["-S", "0/h1"], "positive number"), (["-S", "h1:port"], "not a port number"),
                                     (["--launcher", "env"], "needs hosts"), (["-S", "h1", "--pool", "thread"], "--pool thread"),
                                     (["--sshloginfile", "missing"], "cannot read missing"),
                                     (["--slurm", "-S", "h1"], "cannot be combined")] {
            let r = try h.run(["run"] + arguments + ["echo"], input: "x\n")
            #expect(r.status == 1 && r.err.contains(message) && r.out.isEmpty, "\(r)")
        }
    }
}

@Suite(.serialized) struct SlurmWorkerTests {
    @Test func slurmOutsideAnAllocationIsAnError() throws {
        let h = try Harness()
        h.launchPrefix = ["env", "-u", "SLURM_JOB_ID"]
        let r = try h.run(["run", "--slurm", "echo"], input: "x\n")
        #expect(r.status == 1 && r.err.contains("not inside a Slurm allocation") && r.err.contains("salloc"), "\(r)")
        #expect(r.out.isEmpty, "\(r)")
    }

    @Test func oneWorkerPerNodeOfTheAllocation() throws {
        let h = try Harness()
        let slurm = try TestSlurm(in: h)
        h.environment = slurm.environment
        h.launchPrefix = ["salloc", "-N2", "--quiet"]

        // Job 1 holds its node until job 2 has started elsewhere.
        let job = "touch \(h.path)/started.$1; if [ $1 = 1 ]; then \(waitFor("\(h.path)/started.2")); fi; echo $1"
        let r = try h.run(["run", "--slurm", "-j1", "--joblog", "log", "sh", "-c", job, "sh"], input: "1\n2\n3\n4\n")
        #expect(r.status == 0, "\(r)")
        let rows = jobLogRows(h, "log")
        #expect(rows.map(\.seq).sorted() == [1, 2, 3, 4] && Set(rows.map(\.host)) == ["n1", "n2"], "\(rows)")

        // Without --slurm the run stays here and says what --slurm would do.
        let local = try h.run(["run", "echo"], input: "x\n")
        #expect(local.status == 0 && local.out == "x\n", "\(local)")
        #expect(local.err.contains("--slurm would use all 2 nodes"), "\(local)")

        // A node's worker killed: exactly its job lost, found from the
        // stream, not from srun's status; the rest run on the other node.
        for name in h.files(prefix: "started.") { try FileManager.default.removeItem(atPath: h.file(name)) }
        let (lostRun, held, _, _) = try hitWorker(h, ["run", "--slurm", "-j1", "--joblog", "lost.log"] + waitingJob(h),
                                                  jobs: 6, running: 2, signal: SIGKILL)
        #expect(lostRun.status == 1, "\(lostRun)")
        let lostRows = jobLogRows(h, "lost.log")
        #expect(lostRows.map(\.seq).sorted() == Array(1...6), "\(lostRows)")
        #expect(Set(lostRows.filter { $0.exit == -1 }.map(\.seq)) == held && !held.isEmpty, "\(lostRows) \(held)")

        // A node's worker frozen: found by heartbeats, not after Slurm's
        // ~25 s; with --retries its job runs again on the other node.
        for name in h.files(prefix: "started.") + ["go"] { try? FileManager.default.removeItem(atPath: h.file(name)) }
        let (frozenRun, frozenHeld, victim, seconds) = try hitWorker(
            h, ["run", "--slurm", "-j1", "--worker-timeout", "2", "--retries", "2", "--joblog", "frozen.log"] + waitingJob(h),
            jobs: 6, running: 2, signal: SIGSTOP)
        defer { kill(victim, SIGKILL) }
        #expect(frozenRun.status == 0 && frozenRun.err.contains("silent for "), "\(frozenRun)")
        let frozenRows = jobLogRows(h, "frozen.log")
        #expect(frozenRows.map(\.seq).sorted() == Array(1...6) && frozenRows.allSatisfy { $0.exit == 0 }, "\(frozenRows)")
        #expect(!frozenHeld.isEmpty && seconds < 20, "noticed after \(seconds) s")
    }
}
