// Records are bytes: what arrives in a job's argv is exactly what was read.
import Foundation
import Testing

@Suite struct RecordBytesTests {
    /// Runs `records` through template mode; each job writes its argv,
    /// NUL-separated, to a file named after its sequence number.
    private func argvArrivals(_ input: [UInt8], options: [String]) throws -> (Harness, RunResult) {
        let h = try Harness()
        let r = try h.run(["run", "-j2"] + options + ["sh", "-c", "printf '%s\\0' \"$@\" > argv.$PFUTURES_SEQ", "sh"],
                          input: input)
        return (h, r)
    }

    @Test func oddBytesArriveUnchanged() throws {
        let records: [[UInt8]] = [
            Array("with space".utf8), Array("it's \"quoted\"".utf8), Array("-n".utf8), Array("$(touch pwned)".utf8),
            [0xFF, 0xFE, 0x41, 0xC3], Array("tab\there".utf8), Array("trailing cr\r".utf8),
        ]
        let input = Array(records.map { $0 + [0x0A] }.joined())
        let (h, r) = try argvArrivals(input, options: [])
        #expect(r.status == 0, "\(r)")
        for (index, record) in records.enumerated() {
            #expect(h.read("argv.\(index + 1)") == record + [0], "record \(index + 1)")
        }
        #expect(!h.exists("pwned"))
    }

    @Test func nulSeparatedRecordsMayHoldNewlines() throws {
        let (h, r) = try argvArrivals(Array("a\nb\0\0c d\0".utf8), options: ["-0"])
        #expect(r.status == 0, "\(r)")
        #expect(h.read("argv.1") == Array("a\nb\0".utf8))
        #expect(h.read("argv.2") == [0], "an empty record is kept with -0")
        #expect(h.read("argv.3") == Array("c d\0".utf8))
    }

    @Test func delimiterOptionSplitsOnThatByte() throws {
        let (h, r) = try argvArrivals(Array("x,y\nz".utf8), options: ["-d", ","])
        #expect(r.status == 0, "\(r)")
        #expect(h.read("argv.1") == Array("x\0".utf8))
        #expect(h.read("argv.2") == Array("y\nz\0".utf8), "a last record without delimiter counts")
        let (t, tr) = try argvArrivals(Array("p\tq".utf8), options: ["-d", "\\t"])
        #expect(tr.status == 0 && t.read("argv.2") == Array("q\0".utf8), "\(tr)")
    }

    @Test func emptyLinesAreSkippedInLineMode() throws {
        let r = try Harness().run(["run", "-k", "echo"], input: "a\n\n\nb\n")
        #expect(r.out == "a\nb\n", "\(r)")
    }

    @Test func nulInLineModeFailsOnlyThatJob() throws {
        let r = try Harness().run(["run", "-k", "echo"], input: Array("a\nb\0c\nd\n".utf8))
        #expect(r.out == "a\nd\n", "\(r)")
        #expect(r.err.contains("NUL"), "\(r)")
        #expect(r.status == 126, "\(r)")
    }

    @Test func oversizedRecordFailsOnlyThatJob() throws {
        let big = [UInt8](repeating: 0x61, count: 300 * 1024)
        let r = try Harness().run(["run", "-k", "echo"], input: Array("first\n".utf8) + big + Array("\nlast\n".utf8))
        #expect(r.out == "first\nlast\n", "\(r)")
        #expect(r.err.lowercased().contains("argument list too long"), "\(r)")
        #expect(r.status == 126, "\(r)")
    }

    @Test func hundredThousandRecordsRunExactlyOnce() throws {
        let input = (1...100_000).map { "\($0)\n" }.joined()
        let r = try Harness().run(["run", "-j4", "-n", "500", "echo"], input: input)
        #expect(r.status == 0)
        let numbers = r.out.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        #expect(numbers.count == 100_000)
        #expect(Set(numbers) == Set(1...100_000))
    }
}
