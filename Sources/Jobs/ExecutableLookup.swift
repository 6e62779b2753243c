// Finds a program on PATH the way execvp does, once per name: a job's
// command is resolved in the parent so the spawned child only has to exec.
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// PATH lookup with a cache.
final class ExecutableLookup: Sendable {
    private let directories: [[UInt8]]
    private let cache = Mutex<[[UInt8]: Result<[UInt8], SpawnFailure>]>([:])

    init(path: [UInt8]?) {
        let value = path ?? Array("/usr/local/bin:/usr/bin:/bin".utf8)
        directories = value.split(separator: 0x3A, omittingEmptySubsequences: false)
            .map { $0.isEmpty ? [0x2E] : Array($0) }
    }

    /// The path to execute for `name`: itself when it contains a slash,
    /// otherwise the first executable match on PATH.
    func resolve(_ name: [UInt8]) -> Result<[UInt8], SpawnFailure> {
        if name.contains(0x2F) { return .success(name) }
        if name.isEmpty { return .failure(.notFound) }
        if let hit = cache.withLock({ $0[name] }) { return hit }
        var found: Result<[UInt8], SpawnFailure> = .failure(.notFound)
        for directory in directories {
            let candidate = directory + [0x2F] + name
            let usable: Bool? = (candidate + [0]).withUnsafeBufferPointer { raw in
                raw.withMemoryRebound(to: CChar.self) { path in
                    var info = stat()
                    guard stat(path.baseAddress!, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else { return nil }
                    return access(path.baseAddress!, X_OK) == 0
                }
            }
            if usable == true { found = .success(candidate); break }
            if usable == false, case .failure(.notFound) = found {
                found = .failure(.cannotRun("permission denied"))  // keep looking, as execvp does
            }
        }
        cache.withLock { $0[name] = found }
        return found
    }
}
