// --pipe: stdin cut into blocks of about --block bytes (or -N records),
// always between two records, never inside one: a block ends after a
// record end (--recend) that is followed by a record start (--recstart),
// as GNU parallel cuts. A record longer than a block goes whole into one.
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// How --pipe cuts its input.
package struct BlockFormat: Sendable, Equatable {
    /// Bytes a block reaches before it is cut at the next record boundary.
    package var blockSize = 1 << 20
    /// What ends a record (default a newline); empty: records are only started.
    package var recordEnd: [UInt8] = [0x0A]
    /// What starts a record (default nothing).
    package var recordStart: [UInt8] = []
    /// -N: exactly this many records per block (the last may have fewer).
    package var recordsPerBlock: Int?

    package init() {}
}

/// Reads blocks from a descriptor. Not thread-safe: used by one thread at a
/// time, and handed over whole (--round-robin reads in a thread of its own;
/// the main thread looks at `readError` only after joining it).
package final class BlockReader: @unchecked Sendable {
    private let fd: Int32
    private let format: BlockFormat
    private let wakeFD: Int32?
    private var data: [UInt8] = []
    /// Where the search for the next boundary goes on (bytes before it hold none).
    private var scanned = 0
    /// Boundaries found so far in `data` (for -N).
    private var boundaries: [Int] = []
    private var atEOF = false
    /// A signal woke the reader: the rest is not a block (it may end mid-record).
    private var woken = false
    /// The errno of a failed read, if reading stopped on an error.
    package private(set) var readError: Int32?

    /// - Parameter wakeFD: when it turns readable, reading stops (a signal).
    package init(fd: Int32, format: BlockFormat, wakeFD: Int32? = nil) {
        self.fd = fd
        self.format = format
        self.wakeFD = wakeFD
    }

    /// The next block, or nil at end of input.
    package func next() -> [UInt8]? {
        while true {
            if let cut = findCut() {
                let block = Array(data[..<cut])
                data.removeFirst(cut)
                boundaries = boundaries.filter { $0 > cut }.map { $0 - cut }
                scanned = max(0, scanned - cut)
                return block
            }
            if atEOF || !fill() {
                atEOF = true
                guard !data.isEmpty, !woken else { return nil }
                defer { data = []; scanned = 0; boundaries = [] }
                return data
            }
        }
    }

    /// Where the next block ends, if its end is already in `data`.
    private func findCut() -> Int? {
        guard let needed = format.recordsPerBlock else {
            // Boundaries before the block size do not matter: skip to it.
            let earliest = format.recordEnd.isEmpty ? format.blockSize : format.blockSize - format.recordEnd.count
            scanned = max(scanned, earliest)
            return nextBoundary()
        }
        while boundaries.count < needed, let boundary = nextBoundary() { boundaries.append(boundary) }
        return boundaries.count >= needed ? boundaries[needed - 1] : nil
    }

    /// The next place between two records at or after `scanned`, or nil
    /// when `data` holds no further one yet (more input is needed).
    private func nextBoundary() -> Int? {
        let end = format.recordEnd, start = format.recordStart
        while true {
            if end.isEmpty {
                // Only a record start: cut before each one, but not at the very beginning.
                guard let at = find(start, from: max(scanned, 1)) else {
                    scanned = max(scanned, data.count - start.count + 1, 1)
                    return nil
                }
                scanned = at + 1
                return at
            }
            guard let at = find(end, from: scanned) else {
                scanned = max(scanned, data.count - end.count + 1)  // a marker may straddle the end
                return nil
            }
            let cut = at + end.count
            if start.isEmpty {
                scanned = cut
                return cut
            }
            // Both: the end must be followed by a start; wait to see it.
            guard cut + start.count <= data.count else { return nil }
            scanned = at + 1
            if data[cut..<(cut + start.count)].elementsEqual(start) { return cut }
        }
    }

    /// The first index of `pattern` in `data` at or after `from`.
    private func find(_ pattern: [UInt8], from: Int) -> Int? {
        guard from < data.count, let first = pattern.first else { return nil }
        return data.withUnsafeBufferPointer { bytes -> Int? in
            var at = from
            while at + pattern.count <= bytes.count {
                guard let hit = memchr(bytes.baseAddress! + at, Int32(first), bytes.count - at) else { return nil }
                let index = bytes.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if index + pattern.count > bytes.count { return nil }
                if pattern.count == 1 || memcmp(bytes.baseAddress! + index, pattern, pattern.count) == 0 { return index }
                at = index + 1
            }
            return nil
        }
    }

    /// Reads more input; false at end of input, on error, or when woken.
    private func fill() -> Bool {
        if let wakeFD {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            while poll(&fds, 2, -1) < 0 && errno == EINTR {}
            if fds[1].revents != 0 {
                woken = true
                return false
            }
        }
        let chunk = max(1 << 16, min(format.blockSize, 1 << 22))
        let old = data.count
        var n = 0
        data.append(contentsOf: repeatElement(0, count: chunk))
        data.withUnsafeMutableBytes { raw in
            n = readSome(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[old...]))
        }
        data.removeLast(chunk - max(n, 0))
        if n < 0 { readError = errno; return false }
        return n > 0
    }
}
