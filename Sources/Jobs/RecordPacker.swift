// xargs' packing (-X, -m): as many records per job as fit into one command
// line: 128 KiB by default (xargs' and GNU parallel's size, so the first job
// starts after 128 KiB of input, not after megabytes), or -s/--max-chars, never
// more than the kernel allows (ARG_MAX less the environment, measured at
// start). While input flows, jobs are filled up; once it has ended, what is
// left is spread evenly so that every worker gets a share (10,000 files with
// -j8: eight jobs, not one full job and seven idle workers).
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// Groups a feed's records into jobs that fit a command-line budget.
/// Not thread-safe: one reader.
package final class RecordPacker {
    private let feed: RecordFeed
    private let template: CommandTemplate
    /// -s (or 128 KiB), counted as xargs counts: bytes and a NUL per argument.
    private let charLimit: Int
    /// The kernel's limit, counted as the kernel does: with a pointer per argument.
    private let byteLimit: Int
    private let workers: Int
    private let maxRecords: Int
    private var buffer: [(record: InputRecord, chars: Int, bytes: Int)] = []
    private var head = 0
    private var buffered = 0          // chars of the records in buffer[head...]
    private var inputEnded = false
    private var sharesLeft = 0        // jobs the rest is spread over, once input ended

    /// A record that does not fit into a command line on its own.
    package struct TooLong: Error, Sendable {
        package let record: InputRecord
        package let bytes: Int
        package let budget: Int
        /// Records that did not fit together (1: the record alone).
        package var records = 1
    }

    /// - Parameters: maxChars: -s, if given; workers: jobs that run at once;
    ///   maxRecords: -n's cap on records per job, if any.
    package init(feed: RecordFeed, template: CommandTemplate, maxChars: Int?, workers: Int, maxRecords: Int?) {
        self.feed = feed
        self.template = template
        self.charLimit = maxChars ?? 131_072
        self.byteLimit = Self.kernelLimit(for: template)
        self.workers = max(1, min(workers, 256))
        self.maxRecords = maxRecords ?? .max
    }

    /// What the kernel lets one exec carry, less this environment and the
    /// 2048 bytes POSIX asks to leave for the job's own use; a shell script
    /// or a joined word is also one string, which Linux caps at 128 KiB.
    package static func kernelLimit(for template: CommandTemplate) -> Int {
        let argMax = sysconf(Int32(_SC_ARG_MAX))
        let environment = currentEnvironment().reduce(0) { $0 + $1.count + 1 + MemoryLayout<UnsafeRawPointer>.size }
        // 64 more for PFUTURES_SEQ and PFUTURES_SLOT.
        let whole = (argMax > 0 ? argMax : 131_072) - environment - 2048 - 64
        return template.packsIntoOneString ? min(whole, 131_071) : whole
    }

    /// The next job's records; nil at the end of input.
    /// - Throws: `TooLong` for a record that cannot fit even alone (`-x`
    ///   stops there; otherwise the caller runs it alone and lets it fail).
    package func next() throws(TooLong) -> [InputRecord]? {
        fill()
        guard head < buffer.count else { return nil }
        let firstCost = buffer[head].chars
        let (chars, bytes) = try headAlone()
        var share = Int.max  // the records' part of this job, when spreading
        if inputEnded {
            if sharesLeft == 0 {
                let needed = (buffered + charLimit - 1) / charLimit
                sharesLeft = min(buffer.count - head, max(workers, needed))
            }
            share = (buffered + sharesLeft - 1) / sharesLeft
            sharesLeft = max(1, sharesLeft - 1)
        }
        var (size, kernelSize, recordsCost, count) = (chars, bytes, firstCost, 1)
        while head + count < buffer.count && count < maxRecords {
            let next = buffer[head + count]
            guard size + next.chars <= charLimit, kernelSize + next.bytes <= byteLimit,
                  recordsCost + next.chars <= share else { break }
            size += next.chars
            kernelSize += next.bytes
            recordsCost += next.chars
            count += 1
        }
        return take(count)
    }

    /// -n N without -X or -m, as xargs: N records a job, fewer when the
    /// next would not fit the command line (-s, or 128 KiB, and the
    /// kernel's limit). Reads no further than this job needs, so the first
    /// job starts after N records, not after a buffer's worth.
    /// - Throws: as `next()`; with `strict` (-x), also when N records do
    ///   not fit together (xargs then stops too).
    package func nextCounted(strict: Bool) throws(TooLong) -> [InputRecord]? {
        guard head < buffer.count || readOne() else { return nil }
        let (chars, bytes) = try headAlone()
        var (size, kernelSize, count) = (chars, bytes, 1)
        while count < maxRecords && (head + count < buffer.count || readOne()) {
            let next = buffer[head + count]
            guard size + next.chars <= charLimit, kernelSize + next.bytes <= byteLimit else {
                if strict {
                    throw TooLong(record: next.record, bytes: size + next.chars, budget: min(charLimit, byteLimit),
                                  records: count + 1)
                }
                break
            }
            size += next.chars
            kernelSize += next.bytes
            count += 1
        }
        return take(count)
    }

    /// The command line of the first buffered record alone (xargs' count, the kernel's).
    /// - Throws: `TooLong`, taking the record, when it cannot fit even alone.
    private func headAlone() throws(TooLong) -> (chars: Int, bytes: Int) {
        let first = buffer[head].record
        let chars = template.commandLineBytes(records: [first], pointer: 0)
        let bytes = template.commandLineBytes(records: [first])
        if chars > charLimit || bytes > byteLimit {
            _ = take(1)
            throw TooLong(record: first, bytes: chars, budget: min(charLimit, byteLimit))
        }
        return (chars, bytes)
    }

    /// Reads until the buffer holds a full job for every worker, or input ends.
    private func fill() {
        while !inputEnded && buffered < charLimit * workers && readOne() {}
    }

    /// Buffers one more record; false at the end of input.
    private func readOne() -> Bool {
        guard !inputEnded, let record = feed.next() else {
            inputEnded = true
            return false
        }
        let chars = template.packedCost(of: record, pointer: 0)
        buffer.append((record, chars, template.packedCost(of: record)))
        buffered += chars
        return true
    }

    private func take(_ count: Int) -> [InputRecord] {
        let taken = buffer[head..<(head + count)]
        head += count
        buffered -= taken.reduce(0) { $0 + $1.chars }
        if head > 4096 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        return taken.map(\.record)
    }
}
