// --pipe (SPEC 2.5b): stdin cut into blocks between records, one block on
// each job's stdin; nothing lost, nothing split, nothing doubled.
import Foundation
import Testing

/// `count` lines of random length (1 to 200 bytes) and content.
private func randomLines(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    for _ in 0..<count {
        let length = Int.random(in: 1...200, using: &generator)
        for _ in 0..<length { bytes.append(UInt8.random(in: 0x20...0x7E, using: &generator)) }
        bytes.append(0x0A)
    }
    return bytes
}

@Suite struct PipeTests {
    @Test func blockCountsAddUpToTheInput() throws {
        let h = try Harness()
        let input = (1...100_000).map { "\($0)\n" }.joined()
        let r = try h.run(["run", "--pipe", "--block", "64k", "wc", "-l"], input: input)
        #expect(r.status == 0, "\(r)")
        let counts = r.outLines.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        #expect(counts.count > 5 && counts.reduce(0, +) == 100_000, "\(counts)")
    }

    @Test func recordsAreNeverSplitAndKeepOrderWithK() throws {
        let h = try Harness()
        let input = randomLines(40_000)
        let r = try h.run(["run", "--pipe", "--block", "10k", "-k", "--joblog", "log", "sh", "-c",
                           "tee \(h.path)/block.$PFUTURES_SEQ"], input: input)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.stdout == input, "-k with cat-like jobs gives the input back byte for byte")
        let blocks = h.files(prefix: "block.").sorted { Int($0.dropFirst(6))! < Int($1.dropFirst(6))! }
        #expect(blocks.count > 100)
        for name in blocks {
            let block = h.read(name)
            #expect(block.last == 0x0A && block.count >= 10 * 1024 || name == blocks.last, "\(name) ends inside a record")
        }
        let rows = String(decoding: h.read("log"), as: UTF8.self).split(separator: "\n").dropFirst()
        let sent = rows.compactMap { Int($0.split(separator: "\t")[4]) }.reduce(0, +)
        #expect(sent == input.count, "the job log's Send column counts the bytes fed")
    }

    @Test func recordsPerBlockWithN() throws {
        let h = try Harness()
        let r = try h.run(["run", "--pipe", "-N", "3", "-k", "wc", "-l"], input: (1...10).map { "\($0)\n" }.joined())
        #expect(r.status == 0 && r.outLines.map { $0.trimmingCharacters(in: .whitespaces) } == ["3", "3", "3", "1"], "\(r)")
        // --tag has no argument to show for a block: a bare TAB, as GNU parallel.
        let tagged = try h.run(["run", "--pipe", "-N", "1", "-k", "--tag", "cat"], input: "a\nb\n")
        #expect(tagged.status == 0 && tagged.out == "\ta\n\tb\n", "\(tagged)")
    }

    @Test func nulRecordsAndACustomRecordEnd() throws {
        let h = try Harness()
        let nul = try h.run(["run", "--pipe", "-0", "-N", "2", "-k", "od", "-An", "-c"],
                            input: Array("a b\0c\nd\0e\0f\0g\0".utf8))
        #expect(nul.status == 0, "\(nul)")
        let blocks = nul.outLines.map { $0.split(separator: " ").joined(separator: " ") }
        #expect(blocks == ["a b \\0 c \\n d \\0", "e \\0 f \\0", "g \\0"], "\(nul)")
        let bar = try h.run(["run", "--pipe", "--recend", "|", "--block", "1", "-k", "sh", "-c", "cat; echo"], input: "x|yy|zzz")
        #expect(bar.status == 0 && bar.outLines == ["x|", "yy|", "zzz"], "\(bar)")
    }

    @Test func aLongRecordEndIsFoundAcrossReadsAndWindows() throws {
        let h = try Harness()
        // 20,000 records of random lowercase ending in "XYZ": over 2 MB, so
        // markers straddle the 64 KiB reads and --pipepart's windows.
        var input: [UInt8] = []
        for _ in 0..<20_000 {
            input += (0..<Int.random(in: 1...200)).map { _ in UInt8.random(in: 0x61...0x7A) } + Array("XYZ".utf8)
        }
        try Data(input).write(to: URL(fileURLWithPath: h.file("in")))
        for mode in [["--pipe"], ["--pipepart", "-a", "in"]] {
            let r = try h.run(["run"] + mode + ["--recend", "XYZ", "--block", "3k", "-k", "sh", "-c",
                               "tee \(h.path)/b$1.$PFUTURES_SEQ", "sh", mode[0]], input: mode.count == 1 ? input : [])
            #expect(r.status == 0 && r.stdout == input, "\(mode): \(r.err)")
            let blocks = h.files(prefix: "b\(mode[0]).")
            #expect(blocks.count > 500 && blocks.allSatisfy { h.read($0).suffix(3).elementsEqual(Array("XYZ".utf8)) },
                    "\(mode): every block ends with the whole marker")
        }
    }

    @Test func recordStartAloneCutsBeforeEachStart() throws {
        let h = try Harness()
        let fasta = ">one\nACGT\nAC\n>two\nGG\n>three\nT\n"
        let r = try h.run(["run", "--pipe", "--recstart", ">", "-N", "1", "-k", "sh", "-c", "head -1"], input: fasta)
        #expect(r.status == 0 && r.outLines == [">one", ">two", ">three"], "\(r)")
    }

    @Test func aFailingBlockIsExit123AndTheOthersRun() throws {
        let h = try Harness()
        let r = try h.run(["run", "--pipe", "-N", "1", "sh", "-c", "read x; echo $x; [ $x != 3 ]"],
                          input: "1\n2\n3\n4\n5\n")
        #expect(r.status == 123, "\(r)")
        #expect(r.outLines.sorted() == ["1", "2", "3", "4", "5"], "\(r)")
    }

    @Test func aJobThatDoesNotReadIsNotAnError() throws {
        let h = try Harness()
        let r = try h.run(["run", "--pipe", "--block", "1M", "true"], input: randomLines(30_000))
        #expect(r.status == 0 && r.err.isEmpty, "EPIPE on a job's stdin is quiet: \(r)")
    }

    @Test func aRetriedBlockIsFedAgainFromTheSameBytes() throws {
        let h = try Harness()
        // The first attempt of each block fails after reading it; the second echoes it.
        let job = "data=$(cat); if [ ! -e \(h.path)/tried.$PFUTURES_SEQ ]; then touch \(h.path)/tried.$PFUTURES_SEQ; exit 1; fi; printf '%s\\n' \"$data\""
        let input = (1...50).map { "line \($0)\n" }.joined()
        let r = try h.run(["run", "--pipe", "-N", "10", "-k", "--retries", "2", "sh", "-c", job], input: input)
        #expect(r.status == 0 && r.out == input, "\(r)")
    }

    @Test func pipepartGivesWhatPipeGives() throws {
        let h = try Harness()
        let input = randomLines(30_000)
        try Data(input).write(to: URL(fileURLWithPath: h.file("in.txt")))
        let part = try h.run(["run", "--pipepart", "-a", "in.txt", "--block", "20k", "-k", "--joblog", "log", "cat"])
        #expect(part.status == 0 && part.stdout == input, "ranges cover the file once, in order: \(part.err)")
        let rows = String(decoding: h.read("log"), as: UTF8.self).split(separator: "\n").dropFirst()
        #expect(rows.count > 50 && rows.compactMap { Int($0.split(separator: "\t")[4]) }.reduce(0, +) == input.count)
        let counts = try h.run(["run", "--pipepart", "-a", "in.txt", "--block", "20k", "wc", "-l"])
        let piped = try h.run(["run", "--pipe", "--block", "20k", "wc", "-l"], input: input)
        let sum = { (r: RunResult) in r.outLines.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.reduce(0, +) }
        #expect(sum(counts) == 30_000 && sum(piped) == 30_000, "\(counts) \(piped)")
        #expect(counts.outLines.count == piped.outLines.count, "the same cuts: \(counts.outLines.count) vs \(piped.outLines.count)")
        let noFile = try h.run(["run", "--pipepart", "cat"], input: "x\n")
        #expect(noFile.status == 1 && noFile.err.contains("needs -a FILE"), "\(noFile)")
    }

    @Test func roundRobinFeedsAFewLongLivedJobs() throws {
        let h = try Harness()
        let input = (1...100_000).map { "\($0)\n" }.joined()
        let r = try h.run(["run", "--pool", "thread", "--pipe", "--round-robin", "-j3", "--block", "8k", "--joblog", "log", "wc", "-l"],
                          input: input)
        #expect(r.status == 0, "\(r)")
        let counts = r.outLines.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        #expect(counts.count == 3 && counts.reduce(0, +) == 100_000, "three jobs took every line between them: \(counts)")
        let rows = String(decoding: h.read("log"), as: UTF8.self).split(separator: "\n").dropFirst()
        #expect(rows.count == 3 && rows.compactMap { Int($0.split(separator: "\t")[4]) }.reduce(0, +) == input.utf8.count,
                "Send counts each job's bytes: \(rows)")
        // Jobs that end without reading leave input unfed: said, and exit 1.
        // More than two jobs' 1 MiB pipes could swallow, however late `true` runs.
        let bigger = Array(repeating: input, count: 10).joined()
        let early = try h.run(["run", "--pool", "thread", "--pipe", "--round-robin", "-j2", "--block", "1k", "true"], input: bigger)
        #expect(early.status == 1 && early.err.contains("every --round-robin job ended before the input did"), "\(early)")
    }

    @Test func pipeOptionsAreCheckedAsUsage() throws {
        let h = try Harness()
        for (arguments, message) in [(["--block", "1M", "cat"], "needs --pipe"), (["--pipe"], "needs a COMMAND"),
                                     (["--pipe", "-n", "2", "cat"], "-N counts records"),
                                     (["--pipe", "--block", "lots", "cat"], "--block: 'lots'"),
                                     (["--pipe", "--recend", "", "cat"], "could never be told apart"),
                                     (["--round-robin", "cat"], "needs --pipe"),
                                     (["--pool", "thread", "--pipe", "--round-robin", "--retries", "2", "cat"], "no --retries"),
                                     (["--pool", "process", "--pipe", "--round-robin", "cat"], "--pool thread")] {
            let r = try h.run(["run"] + arguments, input: "x\n")
            #expect(r.status == 1 && r.err.contains(message) && r.out.isEmpty, "\(r)")
        }
    }

    @Test func sigintMidStreamStopsReadingAndDrains() throws {
        let h = try Harness()
        // An endless stream from another process (seq): pfutures must stop reading it on SIGINT.
        let source = Process()
        source.executableURL = URL(fileURLWithPath: "/usr/bin/seq")
        source.arguments = ["1000000000"]
        let stream = Pipe()
        source.standardOutput = stream
        try source.run()
        defer { source.terminate() }
        let (process, out, err) = try h.start(["run", "--pipe", "-N", "1", "-j2", "sh", "-c",
                                               "read x; touch \(h.path)/ran.$x; sleep 30"], stdin: stream.fileHandleForReading)
        #expect(h.eventually { h.files(prefix: "ran.").count == 2 }, "two blocks running")
        kill(process.processIdentifier, SIGINT)
        let r = h.collect(process, arguments: ["run", "--pipe"], out: out, err: err)
        #expect(r.status == 130, "\(r)")
        #expect(h.files(prefix: "ran.").count == 2, "no block started after the signal")
        #expect(processes(matching: "ran.$x").isEmpty, "running jobs were stopped")
    }
}
