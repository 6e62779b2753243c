// What a --pipe job reads on its stdin: a block pfutures read, or
// (--pipepart) a byte range of a file that the job's own side moves from
// the file into the job's pipe with splice, never through pfutures' memory.
import CSpawn
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// The stdin of a --pipe job.
package enum JobInput: Sendable, Equatable {
    /// A block of bytes.
    case bytes([UInt8])
    /// `length` bytes of the file at `path` from `offset`.
    case fileRange(path: [UInt8], offset: Int, length: Int)
    /// --round-robin: blocks from a stream shared with the run's other jobs
    /// (only in pfutures' own process: it cannot cross to a worker).
    case stream(StreamShare)

    package static func == (a: JobInput, b: JobInput) -> Bool {
        switch (a, b) {
        case (.bytes(let x), .bytes(let y)): x == y
        case (.fileRange(let p, let o, let l), .fileRange(let q, let m, let n)): p == q && o == m && l == n
        case (.stream(let x), .stream(let y)): x === y
        default: false
        }
    }

    /// Bytes the job is fed (the job log's Send).
    package var byteCount: Int {
        switch self {
        case .bytes(let bytes): bytes.count
        case .fileRange(_, _, let length): length
        case .stream(let share): share.bytes
        }
    }

    /// Writes the input to `fd` and closes it. EPIPE (a job that stopped
    /// reading) ends it quietly; so does a file that cannot be opened (the
    /// job then sees a short input, and its exit status tells).
    func write(to fd: Int32) {
        defer { close(fd) }
        switch self {
        case .bytes(let bytes):
            try? writeAll(fd, bytes)
        case .fileRange(let path, let offset, let length):
            let file = openPath(path, O_RDONLY | O_CLOEXEC)
            guard file >= 0 else { return }
            _ = pf_copy_range(file, Int64(offset), Int64(length), fd)
            close(file)
        case .stream(let share):
            share.feed(fd) { block in block.withUnsafeBytes { writePrefix(fd, $0).written } }
        }
    }
}
