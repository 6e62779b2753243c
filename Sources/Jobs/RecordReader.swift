// Splits an input descriptor into records: bytes ending at a delimiter.
// Reads in large chunks and hands out one record at a time, so input is
// streamed and memory holds one chunk plus the current record.
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// How records end.
package struct RecordFormat: Sendable, Equatable {
    /// The byte that ends a record.
    package var delimiter: UInt8
    /// Whether empty records are dropped (true in the default line mode).
    package var skipsEmpty: Bool

    /// One record per line; empty lines skipped; a trailing `\r` is data.
    package static let lines = RecordFormat(delimiter: 0x0A, skipsEmpty: true)
    /// NUL-terminated records (`-0`); empty records are kept.
    package static let nul = RecordFormat(delimiter: 0, skipsEmpty: false)

    package init(delimiter: UInt8, skipsEmpty: Bool) {
        self.delimiter = delimiter
        self.skipsEmpty = skipsEmpty
    }
}

/// Reads records from a descriptor. Not thread-safe: one reader thread.
package final class RecordReader {
    private let fd: Int32
    private let format: RecordFormat
    private let wakeFD: Int32?
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEOF = false
    /// The errno of a failed read, if reading stopped on an error.
    package private(set) var readError: Int32?

    /// - Parameters:
    ///   - wakeFD: when it turns readable, `next()` stops early and returns nil
    ///     (used to stop reading stdin on a signal).
    package init(fd: Int32, format: RecordFormat, wakeFD: Int32? = nil, chunkSize: Int = 1 << 16) {
        self.fd = fd
        self.format = format
        self.wakeFD = wakeFD
        self.buffer = .allocate(byteCount: chunkSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next record, without its delimiter; nil at end of input. A last
    /// record without a delimiter still counts.
    package func next() -> [UInt8]? {
        var pending: [UInt8] = []  // a record that spans chunks
        while true {
            if start < end {
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                if let index = chunk.firstIndex(of: format.delimiter) {
                    pending.append(contentsOf: chunk[..<index])
                    start += index - chunk.startIndex + 1
                    if pending.isEmpty && format.skipsEmpty { continue }
                    return pending
                }
                pending.append(contentsOf: chunk)
                start = end
            }
            if atEOF || !fill() {
                atEOF = true
                if pending.isEmpty { return nil }
                defer { pending = [] }
                return pending
            }
        }
    }

    /// Refills the buffer; false at end of input, on error, or when woken.
    private func fill() -> Bool {
        start = 0
        end = 0
        if let wakeFD {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            while poll(&fds, 2, -1) < 0 && errno == EINTR {}
            if fds[1].revents != 0 { return false }
        }
        let n = readSome(fd, into: buffer)
        if n < 0 { readError = errno; return false }
        end = n
        return n > 0
    }
}
