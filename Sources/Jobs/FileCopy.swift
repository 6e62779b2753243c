// One copy pair of `pfutures copy`, done inside pfutures: contents with the
// kernel's fast paths, permission bits (and timestamps with --preserve),
// written to a temporary file in the destination directory and renamed into
// place, so no reader and no crash ever sees a half-written destination.
import ProcessPool
import CSpawn
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How `pfutures copy` copies.
package struct CopyOptions: Sendable, Hashable {
    /// Keep access and modification times (like shutil.copy2).
    package var preserveTimes = false
    /// Create missing destination directories.
    package var createParents = false
    /// Copy a symbolic link itself instead of the file it points to.
    package var noDereference = false
    /// fsync the new file before renaming it into place.
    package var fsync = false
    package init() {}
}

/// Why a pair failed; the text follows `copy SRC -> DST: `.
package struct CopyFailure: Error, Equatable {
    package let reason: String
    /// True when the copy was stopped (timeout, signal), not refused.
    package let stopped: Bool
    init(_ reason: String, stopped: Bool = false) { self.reason = reason; self.stopped = stopped }
    init(errno code: Int32) { self.init(errnoText(code)) }
}

/// Copies pairs; shared by all workers of a run.
package final class FileCopier: Sendable {
    /// Temporary names are `.pfutures.PID.N.tmp`: the PID lets a later run
    /// recognise and remove what a killed run left behind.
    static let tempPrefix = Array(".pfutures.".utf8)
    private let options: CopyOptions
    private let counter = Atomic<Int>(0)
    private let cleanedDirectories = Mutex<Set<[UInt8]>>([])
    private let chunk = 8 << 20
    private let pid = getpid()

    package init(options: CopyOptions) { self.options = options }

    /// Copies `source` to `destination`; returns the bytes copied.
    /// `shouldStop` is asked between chunks (timeouts, signals).
    /// - Throws: `CopyFailure`.
    package func copy(_ source: [UInt8], to destination: [UInt8], shouldStop: () -> Bool) throws(CopyFailure) -> Int {
        if source.contains(0) || destination.contains(0) {
            throw CopyFailure("a name contains a NUL byte (use -0 for NUL-separated input)")
        }
        if source.isEmpty { throw CopyFailure("empty source") }
        var info = stat()
        let found = withCString(source) { options.noDereference ? lstat($0, &info) : stat($0, &info) }
        guard found == 0 else { throw CopyFailure(errno: errno) }
        if isDirectory(info.st_mode) { throw CopyFailure("source is a directory") }
        // As shutil.copy (SpecialFileError): reading a named pipe would block,
        // without end and beyond --timeout and signals, until a writer comes.
        if (info.st_mode & S_IFMT) == S_IFIFO { throw CopyFailure("source is a named pipe") }

        let target = try resolveTarget(source, destination)
        let directory = dirname(target)
        if options.createParents { try makeDirectories(directory) }
        removeStaleTemporaries(in: directory)
        let temp = directory + [0x2F] + Self.tempPrefix
            + Array("\(pid).\(counter.wrappingAdd(1, ordering: .relaxed).newValue).tmp".utf8)
        do throws(CopyFailure) {
            let bytes: Int
            if (info.st_mode & S_IFMT) == S_IFLNK {
                try copyLink(source, to: temp)
                bytes = 0
            } else {
                bytes = try copyContents(source, to: temp, info: info, shouldStop: shouldStop)
            }
            let renamed = withCString(temp) { t in withCString(target) { rename(t, $0) } }
            guard renamed == 0 else { throw CopyFailure(errno: errno) }
            return bytes
        } catch {
            _ = withCString(temp) { unlink($0) }
            throw error
        }
    }

    private func copyContents(_ source: [UInt8], to temp: [UInt8], info: stat, shouldStop: () -> Bool) throws(CopyFailure) -> Int {
        let input = withCString(source) { open($0, O_RDONLY | O_CLOEXEC) }
        guard input >= 0 else { throw CopyFailure(errno: errno) }
        defer { close(input) }
        let output = withCString(temp) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        guard output >= 0 else { throw CopyFailure(errno: errno) }
        defer { close(output) }
        // The lock says "a copy is writing this" to every other pfutures, in
        // any PID namespace (a pid in the name cannot); it ends with the fd.
        _ = flock(output, LOCK_EX | LOCK_NB)
        var total = 0
        while true {
            if shouldStop() { throw CopyFailure("stopped", stopped: true) }
            let n = pf_copy_chunk(input, output, Int64(chunk))
            if n < 0 {
                if -n == Int64(EINTR) { continue }
                throw CopyFailure(errno: Int32(-n))
            }
            if n == 0 { break }
            total += Int(n)
        }
        // Permission bits as shutil.copy; times as copy2 with --preserve.
        guard fchmod(output, info.st_mode & 0o7777) == 0 else { throw CopyFailure(errno: errno) }
        if options.preserveTimes {
            var times = [info.st_atim, info.st_mtim]
            guard futimens(output, &times) == 0 else { throw CopyFailure(errno: errno) }
        }
        if options.fsync && Glibc.fsync(output) != 0 { throw CopyFailure(errno: errno) }
        return total
    }

    private func copyLink(_ source: [UInt8], to temp: [UInt8]) throws(CopyFailure) {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = withCString(source) { readlink($0, &buffer, buffer.count - 1) }
        guard n >= 0 else { throw CopyFailure(errno: errno) }
        buffer[n] = 0
        guard withCString(temp, { symlink(buffer, $0) }) == 0 else { throw CopyFailure(errno: errno) }
    }

    /// DST itself, or DST/basename(SRC) when DST is a directory or ends in '/'.
    private func resolveTarget(_ source: [UInt8], _ destination: [UInt8]) throws(CopyFailure) -> [UInt8] {
        guard !destination.isEmpty else { throw CopyFailure("empty destination") }
        var info = stat()
        let isDir = withCString(destination) { stat($0, &info) } == 0 && isDirectory(info.st_mode)
        if destination.last == 0x2F {
            if !isDir {
                guard options.createParents else { throw CopyFailure("destination directory does not exist") }
                try makeDirectories(Array(destination.dropLast()))
            }
            return destination + basename(source)
        }
        return isDir ? destination + [0x2F] + basename(source) : destination
    }

    private func makeDirectories(_ path: [UInt8]) throws(CopyFailure) {
        guard !path.isEmpty else { return }
        var info = stat()
        if withCString(path, { stat($0, &info) }) == 0 {
            if isDirectory(info.st_mode) { return }
            throw CopyFailure("\(String(decoding: path, as: UTF8.self)) is not a directory")
        }
        try makeDirectories(dirname(path))
        if withCString(path, { mkdir($0, 0o777) }) != 0 && errno != EEXIST { throw CopyFailure(errno: errno) }
    }

    /// Removes `.pfutures.PID.*.tmp` files of runs that no longer exist, once
    /// per directory per run.
    /// A temporary is stale when no copy holds its lock and its writer is
    /// gone: its pid does not exist here, or (the pid may be another
    /// namespace's or another NFS client's) it has not changed for a minute.
    /// A symbolic link (no lock possible) lives only between symlink and
    /// rename, so only its age and pid count.
    private static func isStale(_ path: [UInt8], pid: Int32) -> Bool {
        var info = stat()
        guard withCString(path, { lstat($0, &info) }) == 0 else { return false }
        let quiet = time(nil) - info.st_mtim.tv_sec > 60
        let pidGone = kill(pid, 0) != 0 && errno == ESRCH
        if (info.st_mode & S_IFMT) == S_IFLNK { return quiet || pidGone }
        let fd = withCString(path) { open($0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }  // a live copy holds it
        // Unlocked but fresh: a copy may be between creating and locking it.
        return pidGone ? time(nil) - info.st_mtim.tv_sec > 2 : quiet
    }

    private func removeStaleTemporaries(in directory: [UInt8]) {
        let first = cleanedDirectories.withLock { $0.insert(directory).inserted }
        guard first, let dir = withCString(directory, { opendir($0) }) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            guard name.starts(with: Self.tempPrefix), name.suffix(4) == Array(".tmp".utf8) else { continue }
            let pidText = name.dropFirst(Self.tempPrefix.count).prefix { $0 != 0x2E }
            guard let pid = Int32(String(decoding: pidText, as: UTF8.self)), pid != getpid() else { continue }
            let path = directory + [0x2F] + name
            if Self.isStale(path, pid: pid) { _ = withCString(path) { unlink($0) } }
        }
    }
}

private func isDirectory(_ mode: mode_t) -> Bool { (mode & S_IFMT) == S_IFDIR }

private func basename(_ path: [UInt8]) -> [UInt8] {
    var trimmed = path[...]
    while trimmed.count > 1 && trimmed.last == 0x2F { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: 0x2F) else { return Array(trimmed) }
    return Array(trimmed[(slash + 1)...])
}

private func dirname(_ path: [UInt8]) -> [UInt8] {
    guard let slash = path.lastIndex(of: 0x2F) else { return [0x2E] }
    return slash == 0 ? [0x2F] : Array(path[..<slash])
}
