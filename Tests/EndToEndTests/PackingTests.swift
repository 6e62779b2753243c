// xargs' packing (SPEC 2.2): -X and -m put as many records into a job as
// fit the kernel's limit or -s, spread over the workers once input ends;
// -x, -E, -L and -r as in xargs. And pfutures against GNU parallel itself on
// the same input-source command lines.
import Foundation
import Testing

@Suite struct PackingTests {
    @Test func packedRecordsAreSpreadEvenlyOverTheWorkers() throws {
        let r = try Harness().run(["run", "-j8", "-X", "sh", "-c", "echo $#", "sh"],
                                  input: (1...10_000).map { "\($0)\n" }.joined())
        #expect(r.status == 0, "\(r)")
        let counts = r.outLines.compactMap { Int($0) }
        #expect(counts.count == 8, "eight jobs for eight workers: \(counts)")
        #expect(counts.reduce(0, +) == 10_000)
        #expect(counts.allSatisfy { $0 > 1000 && $0 < 1500 }, "an even share each: \(counts)")
    }

    @Test func theKernelsLimitIsMeasuredNotGuessed() throws {
        // 200,000 long names with -s far over the kernel's limit: command
        // lines as long as the kernel takes (about 2 MiB here), none refused (E2BIG).
        let name = String(repeating: "n", count: 60)
        let r = try Harness().run(["run", "-j2", "-X", "-s", "100000000", "sh", "-c", "echo $#", "sh"],
                                  input: (1...200_000).map { "dir/\(name)-\($0).txt\n" }.joined())
        #expect(r.status == 0, "\(r.err)")
        let counts = r.outLines.compactMap { Int($0) }
        #expect(counts.reduce(0, +) == 200_000)
        #expect(counts.count >= 8 && counts.count < 40, "full command lines, not one per record: \(counts.count)")
    }

    @Test func xRepeatsTheWordAndMJoinsIntoIt() throws {
        let x = try Harness().run(["run", "-j1", "-X", "echo", "x{}y", ":::", "a", "b", "c"], input: "")
        #expect(x.out == "xay xby xcy\n", "\(x)")
        let m = try Harness().run(["run", "-j1", "-m", "echo", "x{}y", ":::", "a", "b", "c"], input: "")
        #expect(m.out == "xa b cy\n", "\(m)")
    }

    @Test func maxCharsBoundsEveryCommandLine() throws {
        let r = try Harness().run(["run", "-j1", "-k", "-m", "-s", "64", "--dry-run", "echo"],
                                  input: (1...500).map { "\($0)\n" }.joined())
        #expect(r.status == 0, "\(r)")
        let jobs = r.outLines
        #expect(jobs.count > 30, "\(jobs.count) jobs")
        // As xargs counts -s: each argument's bytes and its NUL.
        var numbers: [String] = []
        for (n, job) in jobs.enumerated() {
            let words = job.split(separator: " ").map(String.init)
            let bytes = words.reduce(0) { total, word in total + word.utf8.count + 1 }
            #expect(bytes <= 64 && (bytes > 56 || n == jobs.count - 1), "full, within -s: \(job)")
            numbers += words.dropFirst()
        }
        #expect(numbers == (1...500).map(String.init))
    }

    @Test func maxArgsTakesFewerWhenTheCommandLineWouldNotFit() throws {
        // #15: as xargs, -n N is a most: 100,000 numbers do not fit one
        // 128 KiB command line, so they go in several, each within it.
        let input = (1...100_000).map { "\($0)\n" }.joined()
        let r = try Harness().run(["run", "-j1", "-k", "-n", "100000", "--dry-run", "echo"], input: input)
        #expect(r.status == 0, "\(r.err)")
        let xargs = try shell("seq 100000 | xargs -n 100000 echo | wc -l").out
        #expect(String(r.outLines.count) == xargs.trimmingCharacters(in: .whitespacesAndNewlines),
                "as many jobs as xargs makes")
        #expect(r.outLines.allSatisfy { $0.utf8.count < 131_072 })
        let passed: [String] = r.outLines.flatMap { line -> [String] in line.split(separator: " ").dropFirst().map(String.init) }
        let expected: [String] = (1...100_000).map { String($0) }
        #expect(passed == expected)
        // -n with -s: at most 2 records, fewer when 12 bytes would be passed.
        let small = try Harness().run(["run", "-k", "-n", "2", "-s", "12", "echo"], input: "aaa\nbbb\nc\nd\n")
        let xargsSmall = try shell("printf 'aaa\\nbbb\\nc\\nd\\n' | xargs -n 2 -s 12 echo").out
        #expect(small.out == xargsSmall, "\(small)")
        // With -x, N records that do not fit together stop the run, as xargs.
        let strict = try Harness().run(["run", "-n", "5", "-s", "12", "-x", "echo"], input: (1...10).map { "\($0)\n" }.joined())
        #expect(strict.status == 1 && strict.out.isEmpty, "\(strict)")
        #expect(strict.err.contains("records (-n) need") && strict.err.contains("(-x)"), "\(strict)")
    }

    @Test func aRecordThatCannotFitStopsTheRunWithX() throws {
        let h = try Harness()
        let r = try h.run(["run", "-X", "-x", "-s", "40", "touch"], input: "a\n\(String(repeating: "b", count: 50))\nc\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.err.contains("(-x)"), "\(r)")
        #expect(!h.exists("c"), "nothing after it ran: \(r)")
        let alone = try h.run(["run", "-X", "-s", "40", "touch"], input: "a\n\(String(repeating: "b", count: 50))\n")
        #expect(alone.status == 0 && h.exists(String(repeating: "b", count: 50)), "without -x it runs alone: \(alone)")
        let needsPacking = try h.run(["run", "-s", "40", "echo"], input: "")
        #expect(needsPacking.status == 1 && needsPacking.err.contains("-s: needs -X, -m or -n"), "\(needsPacking)")
    }

    @Test func endMarkerLinesAndNoRunIfEmpty() throws {
        let e = try Harness().run(["run", "-k", "-E", "END", "echo"], input: "a\nb\nEND\nc\n")
        #expect(e.out == "a\nb\n", "\(e)")
        let l = try Harness().run(["run", "-k", "-L", "2", "echo"], input: "1\n2\n3\n")
        #expect(l.out == "1 2\n3\n", "\(l)")
        let r = try Harness().run(["run", "-r", "echo", "ran"], input: "")
        #expect(r.status == 0 && r.out.isEmpty, "\(r)")
    }

    static let sameAsGNU: [([String], String)] = [
        (["-k", "echo", ":::", "a", "b", ":::", "1", "2"], ""),
        (["-k", "--link", "echo", ":::", "a", "b", "c", ":::", "1", "2"], ""),
        (["-k", "echo", ":::", "a", "b", ":::+", "1", "2", "3"], ""),
        (["-k", "echo", "{2}-{1}", ":::", "a", "b", ":::", "c", "d"], ""),
        (["-k", "-n2", "echo", "{1}/{2}", ":::", "a", "b", "c", "d"], ""),
        (["-k", "-n2", "echo", "x{}y", ":::", "a", "b", "c", "d"], ""),
        (["-k", "-j1", "-X", "echo", "x{}y", ":::", "a", "b", "c", "d"], ""),
        (["-k", "-j1", "-m", "echo", ":::", "a", "b", "c"], ""),
        (["-k", "echo", "{1.}", "{1/}", "{1//}", "{1/.}", ":::", "dir/file.tar.gz", "plain"], ""),
        (["-k", "echo", "job", "{#}", ":::", "a", "b", "c"], ""),
        (["-k", ":::", "echo hi", "echo there"], ""),
        (["-k", "--colsep", ",", "echo", "{2}", "{1}"], "a,b\nc,d\n"),
        (["-k", "--colsep", "\\t", "echo"], "a\tb\n"),
        (["-k", "--header", ":", "--colsep", ",", "echo", "{age}", "{name}"], "name,age\nbob,3\nann,5\n"),
        (["-k", "--header", ":", "echo", "{f}", "{g}", ":::", "f", "a", "b", ":::", "g", "c"], ""),
        (["-k", "echo", "{}", "|", "tr", "a-z", "A-Z"], "x y\n"),
        (["-k", "-E", "END", "echo"], "a\nEND\nb\n"),
    ]

    @Test(arguments: sameAsGNU)
    func sameOutputAsGNUParallel(arguments: [String], input: String) throws {
        guard let expected = try GNUParallel.run(arguments, input: input) else { return }
        // GNU parallel runs a command line through the shell; pfutures runs
        // `echo {} | tr …` as one, as a shell template does.
        let ours = arguments.contains("|")
            ? ["run", "-k", arguments.dropFirst().joined(separator: " ")]
            : ["run"] + arguments
        let r = try Harness().run(ours, input: input)
        #expect(r.out == expected, "pfutures \(ours) vs parallel \(arguments)")
    }
}
