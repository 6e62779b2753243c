// The live event stream (--events): one JSON object per line for each job
// life-cycle event. Byte strings that are not valid UTF-8 are written
// losslessly as base64 under a key ending in "_base64".
import ProcessPool
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A JSON value small enough for event lines.
package enum EventValue: Sendable {
    case int(Int)
    case double(Double)
    case text(String)
    case bytes([UInt8])
    case list([[UInt8]])
    case null
}

/// Writes events, one line each, in one write so lines never interleave.
package final class EventLog: Sendable {
    private let fd: Int32
    private let ownsFD: Bool
    private let lock = Mutex<Bool>(false)  // true once a write failed
    private let path: [UInt8]
    private let onWriteFailure: (@Sendable ([UInt8]) -> Void)?

    /// Opens `path` for writing (`-` for stderr), replacing an old file.
    /// `onWriteFailure` hears once, with what to tell the user, when a write
    /// fails (a full disk must not leave a torn event stream unnoticed).
    package init(path: [UInt8], onWriteFailure: (@Sendable ([UInt8]) -> Void)? = nil) throws(JobLogError) {
        self.path = path == [0x2D] ? Array("standard error".utf8) : path
        self.onWriteFailure = onWriteFailure
        if path == [0x2D] { fd = 2; ownsFD = false; return }
        let opened = openPath(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard opened >= 0 else { throw JobLogError(path: path, reason: errnoText(errno)) }
        fd = opened
        ownsFD = true
    }

    deinit { if ownsFD { close(fd) } }

    /// Writes `{"event": name, fields...}` with `time` (epoch seconds) added.
    package func emit(_ name: String, _ fields: KeyValuePairs<String, EventValue>) {
        var line: [UInt8] = Array("{\"event\":".utf8) + Self.string(Array(name.utf8))
        line += Array(",\"time\":".utf8) + Array(millisecondText(wallClockNow()).utf8)
        for (key, value) in fields {
            switch value {
            case .int(let n): line += Array(",\"\(key)\":\(n)".utf8)
            case .double(let d): line += Array(",\"\(key)\":\(millisecondText(d))".utf8)
            case .text(let text): line += Array(",\"\(key)\":".utf8) + Self.string(Array(text.utf8))
            case .null: line += Array(",\"\(key)\":null".utf8)
            case .bytes(let bytes):
                if Self.isUTF8(bytes) {
                    line += Array(",\"\(key)\":".utf8) + Self.string(bytes)
                } else {
                    line += Array(",\"\(key)_base64\":\"".utf8) + base64(bytes) + [0x22]
                }
            case .list(let items):
                if items.allSatisfy(Self.isUTF8) {
                    line += Array(",\"\(key)\":[".utf8) + Array(items.map(Self.string).joined(separator: [0x2C])) + [0x5D]
                } else {
                    line += Array(",\"\(key)_base64\":[".utf8)
                        + Array(items.map { [0x22] + base64($0) + [0x22] }.joined(separator: [0x2C])) + [0x5D]
                }
            }
        }
        line += Array("}\n".utf8)
        let failure: Int32? = lock.withLock { failed in
            do throws(WriteFailure) { try writeAll(fd, line) } catch {
                defer { failed = true }
                guard !failed else { return nil }
                if case .failed(let code) = error { return code }
                return EPIPE
            }
            return nil
        }
        if let failure { onWriteFailure?(Array("cannot write events to ".utf8) + path + Array(": \(errnoText(failure))".utf8)) }
    }

    static func isUTF8(_ bytes: [UInt8]) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static func string(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for byte in bytes {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return out
    }

}

/// `value` seconds with exactly three decimals ("12.050"), as the job log
/// and the events write times and durations (no locale, no exponent).
func millisecondText(_ value: Double) -> String {
    let millis = Int64((value * 1000).rounded())
    let fraction = String(abs(millis % 1000))
    return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}

/// Standard base64 with padding.
func base64(_ bytes: [UInt8]) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var i = 0
    while i < bytes.count {
        let b0 = Int(bytes[i]), b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
        out.append(alphabet[b0 >> 2])
        out.append(alphabet[((b0 & 3) << 4) | (b1 >> 4)])
        out.append(i + 1 < bytes.count ? alphabet[((b1 & 15) << 2) | (b2 >> 6)] : 0x3D)
        out.append(i + 2 < bytes.count ? alphabet[b2 & 63] : 0x3D)
        i += 3
    }
    return out
}
