// `--results DIR`: each job's output also saved as GNU parallel lays it
// out, so scripts written for its result trees read ours:
// DIR/1/VALUE1/2/VALUE2/…/{seq,stdout,stderr}, one level pair per value,
// with `/` in a value written `\_` and `\` written `\\`; a value longer
// than a file name may be is split over several levels of 255 bytes, and
// `.` and `..` are written `\.` and `\..` so they stay inside DIR.
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// Where and how `--results` saves a job's output.
package struct ResultsDirectory: Sendable {
    private let root: [UInt8]

    package init(_ root: [UInt8]) { self.root = root }

    /// The directory of a job with these values (its columns, in order).
    package func directory(values: [[UInt8]]) -> [UInt8] {
        var path = root
        for (n, value) in values.enumerated() {
            path += Array("/\(n + 1)".utf8)
            var name: [UInt8] = value == [0x2E] || value == [0x2E, 0x2E] ? [0x5C] : []
            for byte in value {
                switch byte {
                case 0x2F: name += [0x5C, 0x5F]   // / -> \_
                case 0x5C: name += [0x5C, 0x5C]   // \ -> \\
                default: name.append(byte)
                }
            }
            if name.isEmpty { path.append(0x2F) }
            var start = 0
            while start < name.count {
                let end = min(name.count, start + 255)
                path += [0x2F] + name[start..<end]
                start = end
            }
        }
        return path
    }

    /// Saves job `sequence`'s output; the reason when it could not.
    package func save(values: [[UInt8]], sequence: Int, output: JobOutput?) -> String? {
        let directory = directory(values: values)
        if let failure = makeDirectories(directory) { return failure }
        let files: [(String, (Int32) throws(WriteFailure) -> Void)] = [
            ("seq", { fd throws(WriteFailure) in try writeAll(fd, Array("\(sequence)\n".utf8)) }),
            ("stdout", { fd throws(WriteFailure) in try output?.stdout.write(to: fd) }),
            ("stderr", { fd throws(WriteFailure) in try output?.stderr.write(to: fd) }),
        ]
        for (name, fill) in files {
            let path = directory + Array("/\(name)".utf8)
            let fd = openPath(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
            guard fd >= 0 else { return "\(String(decoding: path, as: UTF8.self)): \(errnoText(errno))" }
            defer { close(fd) }
            do throws(WriteFailure) { try fill(fd) } catch {
                let code: Int32 = if case .failed(let code) = error { code } else { EPIPE }
                return "\(String(decoding: path, as: UTF8.self)): \(errnoText(code))"
            }
        }
        return nil
    }

    private func makeDirectories(_ path: [UInt8]) -> String? {
        var prefix: [UInt8] = []
        for (n, byte) in path.enumerated() where byte == 0x2F || n == path.count - 1 {
            prefix = Array(path[...(byte == 0x2F ? n - 1 : n)])
            guard !prefix.isEmpty else { continue }
            if withCString(prefix, { mkdir($0, 0o777) }) != 0 && errno != EEXIST {
                return "\(String(decoding: prefix, as: UTF8.self)): \(errnoText(errno))"
            }
        }
        return nil
    }
}
