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

    /// Bytes the job is fed (the job log's Send).
    package var byteCount: Int {
        switch self {
        case .bytes(let bytes): bytes.count
        case .fileRange(_, _, let length): length
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
        }
    }
}
