// The one way pfutures starts a process: byte-string argv and environment
// handed to pf_spawn (own process group, optional parent-death signal),
// used for jobs, worker processes and the orphan guard alike.
import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// Descriptors a child starts with as 0, 1 and 2; -1 keeps pfutures' own.
package struct ChildStdio {
    package var stdin: Int32 = -1
    package var stdout: Int32 = -1
    package var stderr: Int32 = -1
    package init(stdin: Int32 = -1, stdout: Int32 = -1, stderr: Int32 = -1) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Starts `path` with `argv` and `environment` in a process group of its
/// own, in `directory` when given; `deathSignal` (0: none) reaches it if
/// the spawning thread dies.
/// - Returns: the pid, or -errno when it could not be started.
package func spawnChild(path: [UInt8], argv: [[UInt8]], environment: [[UInt8]], stdio: ChildStdio,
                        deathSignal: Int32, directory: [UInt8]? = nil) -> pid_t {
    CStringArray(argv).withPointers { argvPointers in
        CStringArray(environment).withPointers { envPointers in
            withCString(path) { pathPointer in
                withCString(directory ?? []) { directoryPointer in
                    var request = pf_spawn_request(path: pathPointer, argv: argvPointers, envp: envPointers,
                                                   stdin_fd: stdio.stdin, stdout_fd: stdio.stdout, stderr_fd: stdio.stderr,
                                                   new_process_group: 1, parent_death_signal: deathSignal,
                                                   directory: directory == nil ? nil : directoryPointer)
                    return pf_spawn(&request)
                }
            }
        }
    }
}

/// pfutures' own environment, as byte strings.
package func currentEnvironment() -> [[UInt8]] {
    var environment: [[UInt8]] = []
    var cursor = environ
    while let entry = cursor.pointee {
        environment.append(Array(UnsafeRawBufferPointer(start: entry, count: strlen(entry))))
        cursor += 1
    }
    return environment
}

/// NUL-terminated copies of byte strings, laid out for a C `char *const *`.
package struct CStringArray {
    private let storage: [UInt8]
    private let offsets: [Int]

    package init(_ strings: [[UInt8]]) {
        var storage: [UInt8] = []
        storage.reserveCapacity(strings.reduce(0) { $0 + $1.count + 1 })
        var offsets: [Int] = []
        offsets.reserveCapacity(strings.count)
        for string in strings {
            offsets.append(storage.count)
            storage += string
            storage.append(0)
        }
        self.storage = storage
        self.offsets = offsets
    }

    package func withPointers<R>(_ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        // exec reads the strings and never writes them; C only spells them `char *`.
        storage.withUnsafeBytes { raw in
            let base = UnsafeMutablePointer(mutating: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            var pointers: [UnsafeMutablePointer<CChar>?] = offsets.map { base + $0 }
            pointers.append(nil)
            return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
    }
}

/// The path of the running binary (from /proc/self/exe), to start it again
/// as a guard or a worker.
package func currentExecutable() -> [UInt8]? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return n > 0 ? buffer[0..<n].map { UInt8(bitPattern: $0) } : nil
}

/// Runs `path` to its end and returns its stdout, or nil when it could not
/// start or did not exit with status 0 (its stderr stays pfutures').
package func captureOutput(path: [UInt8], argv: [[UInt8]]) -> [UInt8]? {
    var pipe: [Int32] = [-1, -1]
    guard pf_pipe(&pipe) == 0 else { return nil }
    let pid = spawnChild(path: path, argv: argv, environment: currentEnvironment(),
                         stdio: ChildStdio(stdout: pipe[1]), deathSignal: 0)
    close(pipe[1])
    defer { close(pipe[0]) }
    guard pid > 0 else { return nil }
    let output = readToEnd(pipe[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    var code: Int32 = 0
    return pf_decode_status(status, &code) == 1 && code == 0 ? output : nil
}
