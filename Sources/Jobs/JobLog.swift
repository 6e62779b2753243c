// The job log (--joblog): GNU parallel's tab-separated columns, one line per
// finished job, appended as each job ends; and reading one back for --resume.
import ProcessPool
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One finished job, as a job-log line records it.
package struct JobLogEntry: Sendable, Equatable {
    package var sequence: Int
    /// Wall-clock start, seconds since the epoch.
    package var startTime: Double
    package var runtime: Double
    /// Bytes fed to the job's stdin (--pipe).
    package var sent: Int
    package var received: Int
    package var exitValue: Int32
    package var signal: Int32
    package var command: [UInt8]
    /// The remote host it ran on; nil: this machine (logged as `:`).
    package var host: String?

    package init(sequence: Int, startTime: Double, runtime: Double, sent: Int = 0, received: Int,
                exitValue: Int32, signal: Int32, command: [UInt8], host: String? = nil) {
        self.host = host
        self.sequence = sequence
        self.sent = sent
        self.startTime = startTime
        self.runtime = runtime
        self.received = received
        self.exitValue = exitValue
        self.signal = signal
        self.command = command
    }

    /// Exit value and signal as GNU parallel logs them for `outcome`
    /// (a command that could not start logs 127 or 126; a timeout, SIGTERM's 15
    /// unless SIGKILL was needed: we log the signal that was sent first).
    package static func columns(for outcome: JobOutcome) -> (exitValue: Int32, signal: Int32) {
        switch outcome {
        case .exited(let code): return (code, 0)
        case .signaled(let signal): return (-1, signal)
        case .timedOut: return (-1, SIGTERM)
        case .spawnFailed(.notFound): return (127, 0)
        case .spawnFailed(.cannotRun), .spawnFailed(.shortOfResources): return (126, 0)
        case .lost: return (-1, 0)
        }
    }

    /// The command as one log field: newline, TAB and backslash written as
    /// `\n`, `\t`, `\\`, so every command reads back as itself.
    package static func field(_ command: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(command.count)
        for byte in command {
            switch byte {
            case 0x0A: out += [0x5C, 0x6E]
            case 0x09: out += [0x5C, 0x74]
            case 0x5C: out += [0x5C, 0x5C]
            default: out.append(byte)
            }
        }
        return out
    }

    /// The command a log field holds (`field` undone; another backslash is
    /// kept, as GNU parallel writes commands unescaped).
    package static func command(fromField field: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(field.count)
        var i = 0
        while i < field.count {
            if field[i] == 0x5C, i + 1 < field.count, let decoded = [0x6E: 0x0A, 0x74: 0x09, 0x5C: 0x5C][field[i + 1]] {
                out.append(UInt8(decoded))
                i += 2
            } else {
                out.append(field[i])
                i += 1
            }
        }
        return out
    }

    var line: [UInt8] {
        let runtimeText = millisecondText(runtime)
        let fields = ["\(sequence)", host ?? ":", millisecondText(startTime),
                      String(repeating: " ", count: max(0, 10 - runtimeText.count)) + runtimeText,
                      "\(sent)", "\(received)", "\(exitValue)", "\(signal)"]
        return Array(fields.joined(separator: "\t").utf8) + [0x09] + Self.field(command) + [0x0A]
    }
}

/// Appends entries to a job log, one write per line so a crash loses at
/// most the line being written.
package final class JobLogWriter: Sendable {
    package static let header = Array("Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n".utf8)
    private let fd: Int32
    private let ownsFD: Bool
    private let lock = Mutex<Bool>(false)  // true once a write failed
    private let path: [UInt8]

    /// Opens `path` (`-` for stderr). With `append`, an existing log is
    /// continued (for --resume); otherwise it is replaced. The header is
    /// written when the file is new or empty.
    /// - Throws: the errno text when the file cannot be opened.
    package init(path: [UInt8], append: Bool) throws(JobLogError) {
        self.path = path == [0x2D] ? Array("standard error".utf8) : path
        if path == [0x2D] {
            fd = 2
            ownsFD = false
            try? writeAll(2, Self.header)
            return
        }
        let flags = (append ? O_RDWR | O_APPEND : O_WRONLY | O_TRUNC) | O_CREAT | O_CLOEXEC
        let opened = openPath(path, flags, 0o644)
        guard opened >= 0 else { throw JobLogError(path: path, reason: errnoText(errno)) }
        fd = opened
        ownsFD = true
        let end = lseek(fd, 0, SEEK_END)
        if end == 0 { try? writeAll(fd, Self.header) } else if end > 0 && !Self.endsWithNewline(opened, at: end) {
            // A line torn by a crash must not swallow the next one.
            try? writeAll(fd, [0x0A])
        }
    }

    deinit { if ownsFD { close(fd) } }

    private static func endsWithNewline(_ fd: Int32, at end: off_t) -> Bool {
        var last: UInt8 = 0
        return pread(fd, &last, 1, end - 1) == 1 && last == 0x0A
    }

    /// Appends `entry`; the first failed write returns what to tell the
    /// user (a full disk must not leave a torn log unnoticed), later ones nil.
    package func append(_ entry: JobLogEntry) -> [UInt8]? {
        let line = entry.line
        return lock.withLock { failed -> [UInt8]? in
            do throws(WriteFailure) { try writeAll(fd, line) } catch {
                defer { failed = true }
                guard !failed else { return nil }
                let code: Int32 = if case .failed(let code) = error { code } else { EPIPE }
                return Array("cannot write job log ".utf8) + path + Array(": \(errnoText(code))".utf8)
            }
            return nil
        }
    }
}

/// A job log that could not be opened.
package struct JobLogError: Error {
    package let path: [UInt8]
    package let reason: String
}

/// What an existing job log says about commands, for --resume. Commands
/// are compared as the shell would split them, so a log written by GNU
/// parallel (`'it'"'"'s'`) matches ours (`'it'\''s'`).
package struct JobLogHistory: Sendable {
    /// Commands (as shell words) with at least one successful line.
    package private(set) var succeeded: Set<[[UInt8]]> = []
    /// Commands with any line at all.
    package private(set) var recorded: Set<[[UInt8]]> = []
    /// The same, as logged: shell scripts (command mode) are compared as
    /// text, where quoting changes what runs (`"$x"` is not `'$x'`).
    package private(set) var succeededText: Set<[UInt8]> = []
    package private(set) var recordedText: Set<[UInt8]> = []

    /// Reads the log at `path`; a missing file is an empty history.
    package init(path: [UInt8]) {
        let fd = openPath(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let reader = RecordReader(fd: fd, format: .lines)
        while let line = reader.next() {
            let fields = line.split(separator: 0x09, maxSplits: 8, omittingEmptySubsequences: false)
            guard fields.count == 9, let sequence = Int(String(decoding: fields[0], as: UTF8.self)) else { continue }
            _ = sequence
            let text = JobLogEntry.command(fromField: Array(fields[8]))
            let command = Self.words(text)
            recorded.insert(command)
            recordedText.insert(text)
            let exitValue = String(decoding: fields[6], as: UTF8.self).trimmingSpaces
            let signal = String(decoding: fields[7], as: UTF8.self).trimmingSpaces
            if exitValue == "0" && signal == "0" {
                succeeded.insert(command)
                succeededText.insert(text)
            }
        }
    }
}

extension JobLogHistory {
    /// A job-log Command field split into words as a POSIX shell would
    /// (quotes and backslashes removed), the key --resume compares.
    package static func words(_ field: [UInt8]) -> [[UInt8]] {
        var words: [[UInt8]] = []
        var word: [UInt8] = []
        var inWord = false
        var i = 0
        func byte(at n: Int) -> UInt8? { n < field.count ? field[n] : nil }
        while i < field.count {
            let c = field[i]
            switch c {
            case 0x20, 0x09:
                if inWord { words.append(word); word = []; inWord = false }
            case 0x27:  // '...': everything literal
                inWord = true
                i += 1
                while i < field.count && field[i] != 0x27 { word.append(field[i]); i += 1 }
            case 0x22:  // "...": backslash escapes only $ ` " \
                inWord = true
                i += 1
                while i < field.count && field[i] != 0x22 {
                    if field[i] == 0x5C, let next = byte(at: i + 1), [0x24, 0x60, 0x22, 0x5C].contains(next) {
                        word.append(next)
                        i += 2
                    } else {
                        word.append(field[i])
                        i += 1
                    }
                }
            case 0x5C:
                inWord = true
                if let next = byte(at: i + 1) { word.append(next); i += 1 }
            default:
                inWord = true
                word.append(c)
            }
            i += 1
        }
        if inWord { words.append(word) }
        return words
    }
}

extension String {
    var trimmingSpaces: String { String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
