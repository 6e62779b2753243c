// The wire protocol between pfutures and its worker processes (--pool
// process). A worker is pfutures re-executed in a hidden mode, reading
// frames on stdin and writing frames on stdout, so the same worker can one
// day be reached through `ssh HOST pfutures ...`.
//
//   pfutures (parent)                                worker process
//   ─────────────────                                ──────────────
//   job queue ──► dispatcher ── JOBS (≤ chunksize) ──► queue ─► run one job
//                    ▲                                           │
//                    │◄──── HELLO (version) ──────────────────── │ (at start)
//   job's thread ◄───┼───── STARTED (seq, pid) ◄──────────────── │
//   (output, log,    │◄──── OUTPUT (seq, stream, bytes) ◄──────── │
//    retries, exit)  │◄──── RESULT (seq, outcome, times) ◄─────── ┘
//                    ├───── STOP ──────────────────────────────► kill sequence
//                    ├───── DRAIN ─────────────────────────────► queued jobs
//                    │                                           → RESULT cancelled
//                    └───── END ───────────────────────────────► finish queue, exit
//   End of input without END means pfutures died: the worker stops its job.
//   A worker that dies fails exactly the jobs it had started (BrokenProcessPool);
//   jobs queued in it that never started go to another worker.
//   INIT_FAILED reports a failed --initializer, after which nothing runs.
//
// Frame: u32 little-endian length of what follows, u8 type, payload.
// Integers are little-endian; a byte string is u32 length + bytes; a
// duration is u64 nanoseconds (0: none). Frames over `maxFrame` are refused.

#if canImport(Glibc)
import Glibc
#endif

/// Frame types.
public enum FrameType: UInt8, Sendable {
    case hello = 0x01
    case jobs = 0x10
    case drain = 0x11
    case stop = 0x12
    case end = 0x13
    case started = 0x20
    case output = 0x21
    case result = 0x22
    case initFailed = 0x23
}

/// The protocol version a HELLO carries.
public let workerProtocolVersion: UInt8 = 1
public let workerProtocolMagic = Array("PFW".utf8)

/// One job as it crosses to a worker.
public struct WireJob: Sendable, Equatable {
    public enum Kind: UInt8, Sendable { case exec = 0, shell = 1, copy = 2 }
    public var sequence: UInt64
    public var slot: UInt32
    public var kind: Kind
    public var timeout: Duration?
    public var killAfter: Duration
    public var capture: Bool
    /// argv (exec), [script] (shell), or [source, destination] (copy).
    public var strings: [[UInt8]]

    public init(sequence: UInt64, slot: UInt32, kind: Kind, timeout: Duration?, killAfter: Duration,
                capture: Bool, strings: [[UInt8]]) {
        self.sequence = sequence
        self.slot = slot
        self.kind = kind
        self.timeout = timeout
        self.killAfter = killAfter
        self.capture = capture
        self.strings = strings
    }
}

/// How a job ended on the worker.
public enum WireOutcome: Sendable, Equatable {
    case finished(JobOutcome, bytesCopied: Int)
    /// Queued in the worker but never started (DRAIN).
    case cancelled
    /// A copy pair failed; the text is the reason.
    case copyFailed(String)
}

/// A malformed or unexpected frame.
public struct ProtocolError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Frames are at most this long (type and payload).
public let maxFrame = 64 << 20

/// Builds frame payloads.
public struct FrameWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    public mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    public mutating func string(_ s: [UInt8]) { u32(UInt32(s.count)); bytes += s }
    public mutating func duration(_ d: Duration?) {
        guard let d else { u64(0); return }
        let (s, a) = d.components
        u64(UInt64(max(1, s * 1_000_000_000 + a / 1_000_000_000)))
    }

    /// The complete frame: length, type, payload.
    public func frame(_ type: FrameType) -> [UInt8] {
        var out = FrameWriter()
        out.u32(UInt32(bytes.count + 1))
        out.u8(type.rawValue)
        return out.bytes + bytes
    }
}

/// Reads frame payloads, failing on truncation.
public struct FrameReader {
    private let bytes: [UInt8]
    private var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var atEnd: Bool { offset == bytes.count }

    private mutating func take(_ n: Int) throws(ProtocolError) -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else { throw ProtocolError("truncated frame") }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }
    public mutating func u8() throws(ProtocolError) -> UInt8 { try take(1).first! }
    public mutating func u32() throws(ProtocolError) -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
    public mutating func u64() throws(ProtocolError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    public mutating func i32() throws(ProtocolError) -> Int32 { Int32(bitPattern: try u32()) }
    public mutating func f64() throws(ProtocolError) -> Double { Double(bitPattern: try u64()) }
    public mutating func string() throws(ProtocolError) -> [UInt8] { Array(try take(Int(try u32()))) }
    public mutating func duration() throws(ProtocolError) -> Duration? {
        let n = try u64()
        return n == 0 ? nil : .nanoseconds(Int64(min(n, UInt64(Int64.max))))
    }
}

extension WireJob {
    func write(to w: inout FrameWriter) {
        w.u64(sequence)
        w.u32(slot)
        w.u8(kind.rawValue)
        w.duration(timeout)
        w.u64(UInt64(max(0, killAfter.components.seconds * 1_000_000_000 + killAfter.components.attoseconds / 1_000_000_000)))
        w.u8(capture ? 1 : 0)
        w.u32(UInt32(strings.count))
        for s in strings { w.string(s) }
    }

    static func read(from r: inout FrameReader) throws(ProtocolError) -> WireJob {
        let sequence = try r.u64(), slot = try r.u32()
        guard let kind = Kind(rawValue: try r.u8()) else { throw ProtocolError("unknown job kind") }
        let timeout = try r.duration(), killAfter = Duration.nanoseconds(Int64(min(try r.u64(), UInt64(Int64.max))))
        let capture = try r.u8() != 0
        let count = try r.u32()
        guard count <= 1 << 20 else { throw ProtocolError("too many strings in a job") }
        var strings: [[UInt8]] = []
        for _ in 0..<count { strings.append(try r.string()) }
        return WireJob(sequence: sequence, slot: slot, kind: kind, timeout: timeout, killAfter: killAfter,
                       capture: capture, strings: strings)
    }

    /// A JOBS frame carrying `jobs`.
    public static func frame(_ jobs: [WireJob]) -> [UInt8] {
        var w = FrameWriter()
        w.u32(UInt32(jobs.count))
        for job in jobs { job.write(to: &w) }
        return w.frame(.jobs)
    }

    /// The jobs of a JOBS frame's payload.
    public static func decode(_ payload: [UInt8]) throws(ProtocolError) -> [WireJob] {
        var r = FrameReader(payload)
        let count = try r.u32()
        guard count <= 1 << 16 else { throw ProtocolError("too many jobs in a frame") }
        var jobs: [WireJob] = []
        for _ in 0..<count { jobs.append(try read(from: &r)) }
        guard r.atEnd else { throw ProtocolError("trailing bytes in a JOBS frame") }
        return jobs
    }
}

extension WireOutcome {
    /// A RESULT frame for job `sequence`.
    public func frame(sequence: UInt64, startedAt: Double, runtime: Double) -> [UInt8] {
        var w = FrameWriter()
        w.u64(sequence)
        var text: [UInt8] = []
        switch self {
        case .finished(let outcome, let bytes):
            switch outcome {
            case .exited(let code): w.u8(0); w.i32(code)
            case .signaled(let signal): w.u8(1); w.i32(signal)
            case .timedOut: w.u8(2); w.i32(0)
            case .spawnFailed(.notFound): w.u8(3); w.i32(0)
            case .spawnFailed(.cannotRun(let why)): w.u8(4); w.i32(0); text = Array(why.utf8)
            case .lost(let why): w.u8(7); w.i32(0); text = Array(why.utf8)
            }
            w.u64(UInt64(bytes))
        case .cancelled: w.u8(5); w.i32(0); w.u64(0)
        case .copyFailed(let why): w.u8(6); w.i32(0); w.u64(0); text = Array(why.utf8)
        }
        w.f64(startedAt)
        w.f64(runtime)
        w.string(text)
        return w.frame(.result)
    }

    /// Decodes a RESULT payload: (sequence, outcome, start time, runtime).
    public static func decode(_ payload: [UInt8]) throws(ProtocolError) -> (UInt64, WireOutcome, Double, Double) {
        var r = FrameReader(payload)
        let sequence = try r.u64(), kind = try r.u8(), code = try r.i32(), bytes = Int(try r.u64())
        let startedAt = try r.f64(), runtime = try r.f64()
        let text = String(decoding: try r.string(), as: UTF8.self)
        let outcome: WireOutcome
        switch kind {
        case 0: outcome = .finished(.exited(code), bytesCopied: bytes)
        case 1: outcome = .finished(.signaled(code), bytesCopied: 0)
        case 2: outcome = .finished(.timedOut, bytesCopied: 0)
        case 3: outcome = .finished(.spawnFailed(.notFound), bytesCopied: 0)
        case 4: outcome = .finished(.spawnFailed(.cannotRun(text)), bytesCopied: 0)
        case 5: outcome = .cancelled
        case 6: outcome = .copyFailed(text)
        case 7: outcome = .finished(.lost(text), bytesCopied: 0)
        default: throw ProtocolError("unknown outcome \(kind)")
        }
        return (sequence, outcome, startedAt, runtime)
    }
}

/// Reads whole frames from a descriptor (blocking), through a buffer so that
/// frames that arrive together cost one read.
public final class FrameInput {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0

    public init(fd: Int32) { self.fd = fd }

    /// The next frame, or nil at a clean end of input (between frames).
    /// - Throws: `ProtocolError` for a truncated, empty, oversized or unknown frame.
    public func next() throws(ProtocolError) -> (FrameType, [UInt8])? {
        guard let header = try read(4, allowEOF: true) else { return nil }
        let length = header.reversed().reduce(0) { $0 << 8 | Int($1) }
        guard length >= 1 else { throw ProtocolError("empty frame") }
        guard length <= maxFrame else { throw ProtocolError("frame of \(length) bytes is over the \(maxFrame)-byte limit") }
        let body = try read(length, allowEOF: false)!
        guard let type = FrameType(rawValue: body[0]) else { throw ProtocolError("unknown frame type \(body[0])") }
        return (type, Array(body.dropFirst()))
    }

    private func read(_ count: Int, allowEOF: Bool) throws(ProtocolError) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            if start == end {
                let n = buffer.withUnsafeMutableBytes { readSome(fd, into: $0) }
                if n < 0 { throw ProtocolError("read failed: \(errnoText(errno))") }
                if n == 0 {
                    if out.isEmpty && allowEOF { return nil }
                    throw ProtocolError("truncated frame at end of input")
                }
                start = 0
                end = n
            }
            let take = min(count - out.count, end - start)
            out += buffer[start..<(start + take)]
            start += take
        }
        return out
    }
}
