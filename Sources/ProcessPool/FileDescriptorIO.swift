// Small wrappers for raw descriptors: reading and writing (retrying on
// EINTR and short writes) and opening paths that are byte strings.
#if canImport(Glibc)
import Glibc
#endif

/// Why a write to a descriptor stopped.
package enum WriteFailure: Error, Equatable {
    /// The reader went away (EPIPE): a closed pipe, `| head -1`.
    case closed
    /// Any other errno.
    case failed(Int32)
}

/// Writes all of `bytes` to `fd`.
/// - Throws: `WriteFailure`.
package func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(WriteFailure) {
    if let failure = writePrefix(fd, bytes).failure { throw failure }
}

/// Writes as much of `bytes` to `fd` as it takes: how many bytes went out,
/// and why the rest did not (nil: all of it went).
package func writePrefix(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> (written: Int, failure: WriteFailure?) {
    var offset = 0
    while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n >= 0 { offset += n; continue }
        switch errno {
        case EINTR: continue
        case EAGAIN:
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pfd, 1, -1)
        case EPIPE: return (offset, .closed)
        case let code: return (offset, .failed(code))
        }
    }
    return (offset, nil)
}

/// Writes all of `bytes` to `fd`.
/// - Throws: `WriteFailure`.
package func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(WriteFailure) {
    let failure: WriteFailure? = bytes.withUnsafeBytes { raw in
        do throws(WriteFailure) { try writeAll(fd, raw); return nil } catch { return error }
    }
    if let failure { throw failure }
}

/// One `read`, retried on EINTR: the byte count, 0 at end of file, -1 on error.
package func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
    while true {
        let n = read(fd, buffer.baseAddress, buffer.count)
        if n < 0 && errno == EINTR { continue }
        return n
    }
}

/// Calls `body` with `bytes` as a NUL-terminated C string.
package func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    (bytes + [0]).withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
}

/// `open` for a path given as bytes; the descriptor or -1 (errno set).
package func openPath(_ path: [UInt8], _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    withCString(path) { open($0, flags, mode) }
}

/// Opens a file of records for reading; -1 with errno set (EISDIR for a
/// directory, whose read would otherwise fail later without its name).
package func openRecordFile(_ path: [UInt8]) -> Int32 {
    let fd = openPath(path, O_RDONLY | O_CLOEXEC)
    var info = stat()
    guard fd >= 0, fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return fd }
    close(fd)
    errno = EISDIR
    return -1
}

/// Everything `fd` holds until end of file; nil on a read error (errno set).
package func readToEnd(_ fd: Int32) -> [UInt8]? {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { readSome(fd, into: $0) }
        if n == 0 { return bytes }
        if n < 0 { return nil }
        bytes += chunk[..<n]
    }
}

/// A small file's bytes (an --sshloginfile); nil with errno set.
package func readWholeFile(_ path: [UInt8]) -> [UInt8]? {
    let fd = openRecordFile(path)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return readToEnd(fd)
}

/// The text of an errno value.
package func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// F_SETPIPE_SZ, which Glibc's Swift module leaves out (it needs _GNU_SOURCE).
package let fcntlSetPipeSize: Int32 = 1031

/// Writes `pfutures: ` + `message` + newline to stderr as one write, so
/// messages of concurrent jobs never interleave.
package func reportError(_ message: [UInt8]) {
    try? writeAll(2, Array("pfutures: ".utf8) + message + [0x0A])
}

/// `reportError` for a message that is plain text.
package func reportError(_ message: String) { reportError(Array(message.utf8)) }

/// Seconds since the epoch, as a job log and events record them.
package func wallClockNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
