// Holds one stream of one job's output until it may be written: in memory
// while small, in an anonymous temporary file past a threshold, so grouping
// and ordering never hold unbounded output in memory; and, for output held a
// long time under -k, parked in one shared file so it holds no descriptor.
import ProcessPool
import CSpawn
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Captured bytes of one output stream. Used by one thread at a time.
package final class CaptureBuffer {
    /// Bytes held in memory before spilling to a file.
    package static let spillThreshold = 256 * 1024

    /// Bytes after those in `file`: all of them until a spill, then only
    /// what came after a write to the file failed (so the order holds).
    private var memory: [UInt8] = []
    private var file: Int32 = -1
    private var fileLength: off_t = 0
    private var parked: (area: ParkingFile, offset: off_t)?
    package private(set) var count = 0

    package init() {}
    deinit { if file >= 0 { close(file) } }

    /// Bytes currently held in memory (0 once spilled).
    package var memoryFootprint: Int { memory.count }

    /// Whether the bytes sit in a temporary file of this buffer's own.
    package var ownsFile: Bool { file >= 0 }

    package func append(_ bytes: UnsafeRawBufferPointer) {
        count += bytes.count
        if file >= 0 && memory.isEmpty {
            do throws(WriteFailure) {
                try writeAll(file, bytes)
                fileLength += off_t(bytes.count)
                return
            } catch {
                // A full TMPDIR: drop the part that made it, keep it all in memory.
                _ = ftruncate(file, fileLength)
            }
        }
        memory.append(contentsOf: bytes)
        if file < 0 && memory.count > Self.spillThreshold { spill() }
    }

    package func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// Moves the held bytes to a temporary file; stays in memory if none can
    /// be made (a full or read-only TMPDIR must not lose output).
    package func spill() {
        guard file < 0, !memory.isEmpty else { return }
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        let fd = pf_tmpfile(directory)
        guard fd >= 0 else { return }
        if (try? writeAll(fd, memory)) == nil { close(fd); return }
        file = fd
        fileLength = off_t(memory.count)
        memory = []
    }

    /// Moves everything held into `area`, freeing memory and this buffer's own
    /// file; stays as it is if the area cannot take it.
    package func park(in area: ParkingFile) {
        guard parked == nil, count > 0 else { return }
        var bytes = memory
        if file >= 0 {
            var fromFile = [UInt8](repeating: 0, count: count - memory.count)
            let n = fromFile.withUnsafeMutableBytes { pread(file, $0.baseAddress, $0.count, 0) }
            guard n == fromFile.count else { return }
            bytes = fromFile + memory
        }
        guard let offset = area.append(bytes) else { return }
        if file >= 0 { close(file); file = -1 }
        memory = []
        parked = (area, offset)
    }

    /// Writes everything held to `fd`.
    /// - Throws: `WriteFailure` from writing.
    package func write(to fd: Int32) throws(WriteFailure) {
        if let parked {
            try parked.area.copy(offset: parked.offset, length: count, to: fd)
            return
        }
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

/// One anonymous temporary file that many held outputs share (-k), so
/// holding thousands of them costs neither memory nor descriptors.
/// @unchecked Sendable: the end offset is behind `lock`; reads use pread.
package final class ParkingFile: @unchecked Sendable {
    private let fd: Int32
    private let lock = Mutex<off_t>(0)

    /// nil when no temporary file can be made.
    package init?() {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        fd = pf_tmpfile(directory)
        if fd < 0 { return nil }
    }

    deinit { close(fd) }

    /// Stores `bytes`; returns where, or nil if the file could not take them.
    func append(_ bytes: [UInt8]) -> off_t? {
        lock.withLock { end in
            let offset = end
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + written, bytes.count - written, offset + off_t(written)) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return nil }
                written += n
            }
            end += off_t(bytes.count)
            return offset
        }
    }

    /// Writes `length` bytes stored at `offset` to `out`.
    func copy(offset: off_t, length: Int, to out: Int32) throws(WriteFailure) {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        var done = 0
        while done < length {
            let n = pread(fd, chunk.baseAddress, min(chunk.count, length - done), offset + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            try writeAll(out, UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            done += n
        }
    }
}
