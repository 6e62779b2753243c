// Holds one stream of one job's output until it may be written: in memory
// while small, in an anonymous temporary file past a threshold, so grouping
// and ordering never hold unbounded output in memory.
import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// Captured bytes of one output stream. Used by one thread at a time.
public final class CaptureBuffer {
    /// Bytes held in memory before spilling to a file.
    public static let spillThreshold = 256 * 1024

    private var memory: [UInt8] = []
    private var file: Int32 = -1
    public private(set) var count = 0

    public init() {}
    deinit { if file >= 0 { close(file) } }

    /// Bytes currently held in memory (0 once spilled).
    public var memoryFootprint: Int { memory.count }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        count += bytes.count
        if file >= 0 {
            if (try? writeAll(file, bytes)) == nil { memory.append(contentsOf: bytes) }
            return
        }
        memory.append(contentsOf: bytes)
        if memory.count > Self.spillThreshold { spill() }
    }

    public func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// Moves the held bytes to a temporary file; stays in memory if none can
    /// be made (a full or read-only TMPDIR must not lose output).
    public func spill() {
        guard file < 0, !memory.isEmpty else { return }
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        let fd = pf_tmpfile(directory)
        guard fd >= 0 else { return }
        if (try? writeAll(fd, memory)) == nil { close(fd); return }
        file = fd
        memory = []
    }

    /// Writes everything held to `fd`.
    /// - Throws: `WriteFailure` from writing.
    public func write(to fd: Int32) throws(WriteFailure) {
        if file >= 0 {
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
            defer { chunk.deallocate() }
            var offset: off_t = 0
            while true {
                let n = pread(file, chunk.baseAddress, chunk.count, offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                try writeAll(fd, UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
                offset += off_t(n)
            }
        }
        if !memory.isEmpty { try writeAll(fd, memory) }
    }
}
