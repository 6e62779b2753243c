// --joblog and --resume: GNU parallel's columns, lines written as jobs end,
// resuming exactly the missing jobs (after kill -9 too), and round trips
// with GNU parallel itself.
import Foundation
import Testing

private func logLines(_ h: Harness, _ name: String = "log") -> [[String]] {
    String(decoding: h.read(name), as: UTF8.self).split(separator: "\n").map {
        $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }
}

@Suite struct JobLogTests {
    @Test func logHasParallelsColumnsAndOneLinePerJob() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j1", "--joblog", "log", "sh", "-c", "echo out$1; exit $1", "sh"], input: "0\n3\n")
        #expect(r.status == 123, "\(r)")
        let lines = logLines(h)
        #expect(lines.first == ["Seq", "Host", "Starttime", "JobRuntime", "Send", "Receive", "Exitval", "Signal", "Command"])
        #expect(lines.count == 3)
        #expect(lines[1][0] == "1" && lines[1][1] == ":" && lines[1][6] == "0" && lines[1][7] == "0")
        #expect(lines[1][5] == "5", "received bytes of out0\\n")
        #expect(lines[2][6] == "3" && lines[2][8] == "sh -c 'echo out$1; exit $1' sh 3")
        #expect(Double(lines[1][2]).map { abs($0 - Date().timeIntervalSince1970) < 600 } == true)
    }

    @Test func killedJobLogsItsSignal() throws {
        let h = try Harness()
        _ = try h.run(["run", "--joblog", "log"], input: "kill -9 $$\n")
        #expect(logLines(h)[1][6] == "-1" && logLines(h)[1][7] == "9")
    }

    @Test func resumeRunsExactlyTheMissingJobsOfReorderedInput() throws {
        let h = try Harness()
        _ = try h.run(["run", "--joblog", "log", "touch"], input: "a\nb\n")
        try FileManager.default.removeItem(atPath: h.file("a"))
        let r = try h.run(["run", "--joblog", "log", "--resume", "touch"], input: "c\nb\na\nd\n")
        #expect(r.status == 0, "\(r)")
        #expect(!h.exists("a"), "a was logged, so it is skipped")
        #expect(h.exists("c") && h.exists("d"))
        let commands = logLines(h).dropFirst().map { $0[8] }
        #expect(commands.sorted() == ["touch a", "touch b", "touch c", "touch d"])
    }

    @Test func resumeFailedRunsFailuresAgain() throws {
        let h = try Harness()
        let job = "echo $1 >> ran; test -e ok.$1"
        try h.write("ok.1", "")
        _ = try h.run(["run", "-j1", "--joblog", "log", "sh", "-c", job, "sh"], input: "1\n2\n")
        try h.write("ok.2", "")
        _ = try h.run(["run", "-j1", "--joblog", "log", "--resume", "sh", "-c", job, "sh"], input: "1\n2\n")
        #expect(h.read("ran") == Array("1\n2\n".utf8), "--resume skips the failed job too")
        let r = try h.run(["run", "-j1", "--joblog", "log", "--resume-failed", "sh", "-c", job, "sh"], input: "1\n2\n")
        #expect(h.read("ran") == Array("1\n2\n2\n".utf8), "\(r)")
        #expect(r.status == 0, "\(r)")
    }

    @Test func afterKillNineResumeCompletesEveryJobExactlyOnce() throws {
        let h = try Harness()
        let job = "echo $1 >> ran; sleep 0.2"
        let input = (1...30).map { "\($0)\n" }.joined()
        let pipe = Pipe()
        let args = ["run", "-j3", "--joblog", "log", "sh", "-c", job, "sh"]
        let (process, out, err) = try h.start(args, stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data(input.utf8))
        try pipe.fileHandleForWriting.close()
        #expect(h.eventually { logLines(h).count > 6 })
        kill(process.processIdentifier, SIGKILL)
        _ = h.collect(process, arguments: args, out: out, err: err)
        // Jobs killed with pfutures were not logged; they run again, nothing else does.
        let logged = Set(logLines(h).dropFirst().map { $0[8] })
        let r = try h.run(["run", "-j3", "--joblog", "log", "--resume", "sh", "-c", job, "sh"], input: input)
        #expect(r.status == 0, "\(r)")
        let commands = logLines(h).dropFirst().map { $0[8] }
        #expect(commands.count == 30 && Set(commands).count == 30, "every job logged once")
        let runs = String(decoding: h.read("ran"), as: UTF8.self).split(separator: "\n")
        for n in 1...30 where logged.contains("sh -c '\(job)' sh \(n)") {
            #expect(runs.filter { $0 == "\(n)" }.count == 1, "job \(n) ran once")
        }
    }

    @Test func logsRoundTripWithGnuParallel() throws {
        let h = try Harness()
        guard try GNUParallel.run(["--joblog", "theirs", "touch"], input: "p1\np2\n", in: h.directory) != nil else { return }
        let ours = try h.run(["run", "--joblog", "theirs", "--resume", "touch"], input: "p1\np2\np3\n")
        #expect(ours.status == 0 && h.exists("p3"), "\(ours)")
        #expect(logLines(h, "theirs").count == 4)

        _ = try h.run(["run", "-k", "--joblog", "mine", "echo"], input: "q1\nq2\n")
        let theirs = try GNUParallel.run(["--resume", "--joblog", "mine", "echo"], input: "q1\nq2\nq3\n", in: h.directory)
        #expect(theirs == "q3\n", "GNU parallel read our log and ran only the missing job")
    }

    @Test func resumedJobsKeepTheirPlaceInTheInput() throws {
        let h = try Harness()
        _ = try h.run(["run", "--joblog", "log", "echo", "{#}"], input: "a\nb\nc\n")
        // -k prints the resumed jobs (#15: it printed nothing), {#} is the
        // place in the input, so the logged commands still match, and Seq too.
        let r = try h.run(["run", "-k", "--joblog", "log", "--resume", "echo", "{#}"], input: "a\nb\nc\nd\ne\n")
        #expect(r.status == 0 && r.out == "4\n5\n", "\(r)")
        let seqs = logLines(h).dropFirst().compactMap { Int($0[0]) }.sorted()
        #expect(seqs == [1, 2, 3, 4, 5], "\(seqs)")
    }

    @Test func commandsMatchAsShellWordsWhateverTheQuoting() throws {
        let h = try Harness()
        // GNU parallel's quoting of "it's" and of a tab-free field with spaces.
        let header = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
        try h.write("log", header + "1\t:\t1\t0.1\t0\t5\t0\t0\techo 'it'\"'\"'s'\n"
                           + "2\t:\t1\t0.1\t0\t5\t0\t0\techo \"a b\"\n")
        let r = try h.run(["run", "-k", "--joblog", "log", "--resume", "echo"], input: "it's\na b\nnew\n")
        #expect(r.out == "new\n", "only the job GNU parallel did not log: \(r)")
    }

    @Test func anEventStreamThatCannotBeWrittenIsSaidOnce() throws {
        let r = try Harness().run(["run", "--events", "/dev/full", "echo"], input: "a\nb\nc\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.err.contains("cannot write events to /dev/full: No space left on device"), "\(r)")
        #expect(r.err.components(separatedBy: "cannot write events").count == 2, "said once: \(r)")
        #expect(r.out.split(separator: "\n").sorted() == ["a", "b", "c"], "the jobs' output is still written: \(r)")
    }

    @Test func aJobLogThatCannotBeWrittenIsAnErrorNotASilentTornLog() throws {
        let r = try Harness().run(["run", "--joblog", "/dev/full", "echo"], input: "a\nb\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.err.contains("cannot write job log /dev/full: No space left on device"), "\(r)")
        #expect(r.err.components(separatedBy: "cannot write job log").count == 2, "said once: \(r)")
        #expect(r.out.split(separator: "\n").sorted() == ["a", "b"], "the jobs' output is still written: \(r)")
    }

    @Test func aFullStdoutIsAnErrorWithAMessage() throws {
        let h = try Harness()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf 'a\\nb\\n' | \"$0\" run echo > /dev/full", Harness.binary]
        process.currentDirectoryURL = URL(fileURLWithPath: h.path)
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "not 141 as for a closed pipe: \(message)")
        #expect(message.contains("cannot write standard output: No space left on device"), "\(message)")
    }

    @Test func aLiteralBackslashNIsNotANewlineToResume() throws {
        // #15: `\n` typed in a command and a real newline were logged alike, so
        // --resume skipped a job that never ran. These two differ only so.
        let h = try Harness()
        let literal = "printf '%s\\n' 'a\\nb' >> out\0"
        let real = "printf '%s\\n' 'a\nb' >> out\0"
        _ = try h.run(["run", "-0", "--joblog", "log"], input: literal)
        let r = try h.run(["run", "-0", "--joblog", "log", "--resume"], input: literal + real)
        #expect(r.status == 0, "\(r)")
        #expect(String(decoding: h.read("out"), as: UTF8.self) == "a\\nb\na\nb\n", "the real-newline job ran once, the other not again")
    }

    @Test func aTornLastLineDoesNotSwallowTheNext() throws {
        let h = try Harness()
        _ = try h.run(["run", "-k", "--joblog", "log", "echo"], input: "1\n2\n")
        // A crash cut the third line short, before its newline.
        let torn = "3\t:\t1.0\t0.1\t0\t2\t0\t0\techo th"
        try h.write("log", String(decoding: h.read("log"), as: UTF8.self) + torn)
        let r = try h.run(["run", "-k", "--joblog", "log", "--resume", "echo"], input: "1\n2\n3\n")
        #expect(r.out == "3\n", "the torn job runs again: \(r)")
        let lines = logLines(h)
        #expect(lines.count == 5 && lines[3].last == "echo th" && lines[4].last == "echo 3", "\(lines)")
    }
}
