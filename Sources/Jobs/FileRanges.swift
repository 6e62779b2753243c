// --pipepart: a regular file cut into byte ranges of about --block bytes,
// each ending between two records by the same rules as --pipe's blocks
// (BlockReader.swift), found by reading only a window at each cut: the
// bytes themselves never pass through pfutures.
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// Hands out the ranges of one file. Not thread-safe: one reader thread.
package final class FileRanges {
    private let fd: Int32
    private let size: Int
    private let format: BlockFormat
    private var offset = 0
    /// The errno of a failed read, if cutting stopped on an error.
    package private(set) var readError: Int32?

    /// Nil (errno set) when `path` cannot be opened or is not a regular file.
    package init?(path: [UInt8], format: BlockFormat) {
        let fd = openPath(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            errno = EINVAL
            return nil
        }
        self.fd = fd
        self.size = Int(info.st_size)
        self.format = format
    }

    deinit { close(fd) }

    /// The next range, or nil once the file is covered.
    package func next() -> (offset: Int, length: Int)? {
        guard offset < size, readError == nil else { return nil }
        let target = offset + format.blockSize
        let end = target >= size ? size : boundary(atOrAfter: target) ?? size
        defer { offset = end }
        return (offset, end - offset)
    }

    /// The first place between two records at or after `target`.
    private func boundary(atOrAfter target: Int) -> Int? {
        let end = format.recordEnd, start = format.recordStart
        let marker = end + start
        let window = 1 << 16
        var position = target - end.count
        var buffer = [UInt8](repeating: 0, count: window + marker.count)
        while position < size {
            let wanted = min(buffer.count, size - position)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(position)) }
            if got < 0 {
                readError = errno
                return nil
            }
            // A marker starting in this window is seen whole: the window
            // reads marker.count bytes beyond it.
            let last = min(window, got - marker.count + 1)
            if last > 0 {
                for i in 0..<last where buffer[i] == marker[0] && buffer[i..<(i + marker.count)].elementsEqual(marker) {
                    return position + i + end.count
                }
            }
            if got < buffer.count { return nil }
            position += window
        }
        return nil
    }
}
