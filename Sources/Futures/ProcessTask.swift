// Work that can cross a process boundary: a Codable value with a name the
// worker looks it up by, and the wire format tasks travel in.
import Foundation

/// A unit of work that a `ProcessPoolExecutor` runs in a worker process.
///
/// The task value is encoded (JSON), sent to a worker, decoded there by its
/// `taskName`, run, and its `Output` (or error text) sent back. The host
/// program registers every task type with `ProcessPoolExecutor.serveIfWorker`.
public protocol ProcessTask: Codable, Sendable {
    associatedtype Output: Codable & Sendable
    /// The name a worker knows this task by; by default the type's name.
    static var taskName: String { get }
    /// Does the work, in the worker process.
    /// - Throws: any error; the caller's future fails with `RemoteTaskError`.
    func run() throws -> Output
}

extension ProcessTask {
    /// The type's name, e.g. "Resize".
    public static var taskName: String { String(describing: Self.self) }
}

/// A task threw in its worker; the error's text comes back.
public struct RemoteTaskError: Error, Equatable, CustomStringConvertible {
    /// The task's name.
    public let task: String
    /// The error's text, as the worker described it.
    public let message: String
    /// - Parameters: task: the task's name; message: the error's text.
    public init(task: String, message: String) {
        self.task = task
        self.message = message
    }
    /// "NAME failed in its worker: MESSAGE".
    public var description: String { "\(task) failed in its worker: \(message)" }
}

/// The process pool can no longer run a task: its worker died (killed,
/// crashed) or could not be started.
public struct BrokenProcessPool: Error, Equatable, CustomStringConvertible {
    /// What happened to the worker.
    public let reason: String
    /// - Parameter reason: what happened to the worker.
    public init(reason: String) { self.reason = reason }
    /// "process pool is broken: " and the reason.
    public var description: String { "process pool is broken: \(reason)" }
}

// Wire format: each message is a u32 little-endian length and JSON.
struct TaskRequest: Codable {
    var id: UInt64
    var task: String
    var payload: Data
}

struct TaskResponse: Codable {
    var id: UInt64
    var output: Data?
    var error: String?
}

enum Wire {
    static func frame<T: Encodable>(_ value: T) throws -> Data {
        let body = try JSONEncoder().encode(value)
        var length = UInt32(body.count).littleEndian
        return Data(bytes: &length, count: 4) + body
    }

    /// The next message from `fd`, nil at end of input.
    static func read<T: Decodable>(_ type: T.Type, from fd: Int32) throws -> T? {
        guard let header = readExactly(fd, 4) else { return nil }
        let length = header.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard length <= 256 << 20, let body = readExactly(fd, Int(length)) else {
            throw BrokenProcessPool(reason: "malformed or truncated message")
        }
        return try JSONDecoder().decode(T.self, from: body)
    }

    static func write(_ data: Data, to fd: Int32) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }

    private static func readExactly(_ fd: Int32, _ count: Int) -> Data? {
        var data = Data(count: count)
        var got = 0
        while got < count {
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, count - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            got += n
        }
        return data
    }
}
