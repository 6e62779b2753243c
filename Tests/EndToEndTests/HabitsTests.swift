// GNU parallel's spellings mean what they mean there (SPEC 2.9): durations
// with units, -j relative to the cores, --halt with fail/success/done and
// percentages, --lb, --tagstring, -u with --tag refused, prefixes and
// did-you-mean.
import Foundation
import Testing

@Suite struct HabitsTests {
    @Test func durationsTakeUnits() throws {
        let h = try Harness()
        let r = try h.run(["run", "--timeout", "1m30s", "--deadline", "1h", "--delay", "0.01s", "--retry-delay", "0s",
                           "echo"], input: "a\n")
        #expect(r.status == 0 && r.out == "a\n", "\(r)")
        let stopped = try h.run(["run", "--timeout", "0.005m", "sleep"], input: "30\n")  // 0.3 s
        #expect(stopped.status == 125, "\(stopped)")
        let bad = try h.run(["run", "--timeout", "5x", "true"], input: "")
        #expect(bad.status == 1 && bad.err.contains("--timeout: '5x' is not a positive duration"), "\(bad)")
    }

    @Test func jobsRelativeToTheCores() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for (option, expected) in [("-j+1", cores + 1), ("--jobs=-1", max(1, cores - 1)), ("-j-100", 1)] {
            // --dry-run shows {%} over the cap's slots: the largest is the cap.
            let r = try Harness().run(["run", option, "--dry-run", "echo", "{%}"],
                                      input: (1...40).map { "\($0)\n" }.joined())
            #expect(r.outLines.compactMap { Int($0.split(separator: " ").last ?? "") }.max() == expected, "\(option): \(r)")
        }
    }

    @Test func haltOnSuccessEndsTheRunWithZero() throws {
        let h = try Harness()
        let r = try h.run(["run", "-j1", "--halt", "now,success=1", "sh", "-c", "touch ran.$1; exit $(( $1 < 3 ))", "sh"],
                          input: (1...10).map { "\($0)\n" }.joined())
        #expect(r.status == 0, "\(r)")
        #expect(h.files(prefix: "ran.") == ["ran.1", "ran.2", "ran.3"], "\(r)")
    }

    @Test func haltAfterDoneAndAfterAPercentageOfFailures() throws {
        let done = try Harness().run(["run", "-j1", "-k", "--halt", "soon,done=3", "echo"],
                                     input: (1...10).map { "\($0)\n" }.joined())
        #expect(done.out == "1\n2\n3\n", "\(done)")
        // Every job fails: half of the jobs read so far is reached long before
        // the twentieth; one in twenty failing never reaches 50%.
        let percent = try Harness().run(["run", "-j1", "-k", "--halt", "soon,fail=50%", "sh", "-c", "echo $1; exit 1", "sh"],
                                        input: (1...20).map { "\($0)\n" }.joined())
        #expect(percent.status == 123 && !percent.outLines.isEmpty && percent.outLines.count < 20, "\(percent)")
        let rare = try Harness().run(["run", "-j1", "--halt", "soon,fail=50%", "sh", "-c", "exit $(( $1 == 20 ))", "sh"],
                                     input: (1...20).map { "\($0)\n" }.joined())
        #expect(rare.status == 123 && !rare.err.contains("cancelled"), "all twenty ran: \(rare)")
        let bad = try Harness().run(["run", "--halt", "soon,fail=0", "true"], input: "")
        #expect(bad.status == 1 && bad.err.contains("--halt"), "\(bad)")
    }

    @Test func uniquePrefixesAndDidYouMean() throws {
        let prefix = try Harness().run(["run", "--dry", "-j1", "echo", "--dry"], input: "a\n")
        #expect(prefix.status == 0 && prefix.out == "echo --dry a\n", "a prefix, and COMMAND's own words untouched: \(prefix)")
        let valued = try Harness().run(["run", "--max-a=2", "-k", "echo"], input: "1\n2\n3\n")
        #expect(valued.out == "1 2\n3\n", "\(valued)")
        let misspelt = try Harness().run(["run", "--timout", "1", "true"], input: "")
        #expect(misspelt.status == 1 && misspelt.err.contains("--timout: unknown option; did you mean --timeout?"), "\(misspelt)")
        let ambiguous = try Harness().run(["run", "--re", "true"], input: "")
        #expect(ambiguous.status == 1 && ambiguous.err.contains("--re: ambiguous option (") && ambiguous.err.contains("--retries"), "\(ambiguous)")
        #expect(try Harness().run(["run", "--xyzzy", "true"], input: "").err.contains("did you mean") == false)
    }

    @Test func lbIsLineBufferAndUngroupedOutputCannotBeTaggedOrOrdered() throws {
        let lb = try Harness().run(["run", "--lb", "-j1", "echo"], input: "a\n")
        #expect(lb.status == 0 && lb.out == "a\n", "\(lb)")
        for other in ["--tag", "-k"] {
            let r = try Harness().run(["run", "-u", other, "echo"], input: "a\n")
            #expect(r.status == 1 && r.err.contains("-u: output that goes straight to stdout cannot be") && r.out.isEmpty, "\(r)")
        }
    }

    @Test func tagstringSlotIsTheSlotTheJobRanIn() throws {
        // {%} is known only once the job has a slot: the tag must agree with PFUTURES_SLOT.
        for mode in [[], ["--lb"]] {
            let r = try Harness().run(["run", "-j3", "-k"] + mode + ["--tagstring", "s{%}", "sh", "-c", "echo $PFUTURES_SLOT", "sh"],
                                      input: (1...9).map { "\($0)\n" }.joined())
            #expect(r.status == 0 && r.outLines.count == 9, "\(r)")
            #expect(r.outLines.allSatisfy { line in
                let parts = line.split(separator: "\t")
                return parts.count == 2 && parts[0] == "s" + parts[1] && parts[1] != "0"
            }, "\(mode): \(r)")
        }
    }

    @Test func tagstringFillsReplacementStrings() throws {
        let r = try Harness().run(["run", "-k", "--tagstring", "[{#}:{}]", "echo", "hi"], input: "a\nb\n")
        #expect(r.out == "[1:a]\thi a\n[2:b]\thi b\n", "\(r)")
    }

    @Test func resultsUseGNUParallelsLayout() throws {
        let h = try Harness()
        let r = try h.run(["run", "-k", "--results", "out", "sh", "-c", "echo o$1; echo e$1 >&2", "sh", ":::", "a/b", "c"], input: "")
        #expect(r.status == 0 && r.out == "oa/b\noc\n", "the output still goes to stdout: \(r)")
        #expect(h.read("out/1/a\\_b/stdout") == Array("oa/b\n".utf8))
        #expect(h.read("out/1/a\\_b/stderr") == Array("ea/b\n".utf8))
        #expect(h.read("out/1/c/seq") == Array("2\n".utf8))
        let columns = try h.run(["run", "--colsep", ",", "--results", "cols", "echo"], input: "x,y\n")
        #expect(columns.status == 0 && h.read("cols/1/x/2/y/stdout") == Array("x y\n".utf8), "\(columns)")
    }

    @Test func resultsThatCannotBeWrittenAreSaidOnce() throws {
        let h = try Harness()
        try h.write("file", "not a directory")
        let r = try h.run(["run", "-k", "--results", "file/out", "echo"], input: "a\nb\nc\n")
        #expect(r.status == 1, "\(r)")
        #expect(r.out == "a\nb\nc\n", "the output still goes to stdout: \(r)")
        #expect(r.err.components(separatedBy: "cannot save the results").count == 2, "said once: \(r)")
    }

    @Test func timeoutAsAPercentageOfTheMedianRuntime() throws {
        // Three 0.1 s jobs make a median of 0.1 s; 500% of it stops the 30 s one.
        let started = Date()
        let r = try Harness().run(["run", "-j1", "--timeout", "500%", "sleep"], input: "0.1\n0.1\n0.1\n30\n")
        #expect(r.status == 125 && r.err.contains("job 4 timed out"), "\(r)")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test func niceAndShuffle() throws {
        let niceness = ["sh", "-c", "cut -d' ' -f19 /proc/$$/stat"]
        let base = Int(try Harness().run(["run"] + niceness, input: "a\n").outLines.first ?? "") ?? 0
        let nice = try Harness().run(["run", "--nice", "7"] + niceness, input: "a\n")
        #expect(nice.status == 0 && nice.outLines == ["\(min(19, base + 7))"], "the job runs 7 nicer: \(nice)")
        let shuffled = try Harness().run(["run", "-j1", "-k", "--shuf", "echo"], input: (1...50).map { "\($0)\n" }.joined())
        let order = shuffled.outLines.compactMap { Int($0) }
        #expect(order.sorted() == Array(1...50), "every record once: \(shuffled)")
        #expect(order != Array(1...50), "not in input order (one chance in 50! to fail)")
    }
}
