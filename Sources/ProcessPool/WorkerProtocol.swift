// Worker protocol v4: how a ProcessPoolExecutor and its worker processes
// talk, over one byte stream each way (the worker's stdin and stdout), so a
// worker can equally be a local child, `ssh HOST pfutures …` or an `srun`
// step. One worker process runs up to SLOTS tasks at once; every frame
// about a task carries the task's id, so one stream carries many tasks.
//
//   parent (ProcessPoolExecutor)                     worker (WorkerServer)
//   ────────────────────────────                     ─────────────────────
//   spawn ──── SETUP (version, heartbeat, slots, initializer) ──► runs initializer
//         ◄─── HELLO (version, host, pid, slots) ───────────────  (or INIT_FAILED)
//   queue ──── JOBS (id, slot, task, payload)… ─────────────────► a lane per slot
//   observer ◄ STARTED (id, pid) ◄─────────────────────────────── task begins
//   observer ◄ OUTPUT (id, stream, bytes) ◄────────────────────── its output
//   future  ◄─ RESULT (id, status, held, bytes) ◄──────────────── its end
//         ──── RESUME (slot) ───────────────────────────────────► a held lane goes on
//         ──── RECALL (id) ─────────────────────────────────────► not started: RESULT recalled
//         ──── DRAIN ───────────────────────────────────────────► queued: RESULT cancelled
//         ──── STOP ────────────────────────────────────────────► stop switch fires;
//                                                                 queued: RESULT cancelled
//         ──── END, then end of input ──────────────────────────► finish, GOODBYE, exit 0
//         ◄──► HEARTBEAT (every interval, both ways)
//
// Liveness: each side sends HEARTBEAT every `interval`; a peer silent for
// `window` is dead. The parent then kills the worker and fails exactly
// the tasks it had started (BrokenProcessPool, taskWasRunning) while tasks
// queued in it go to another worker; a worker whose parent is silent, or
// whose input ends without END, stops its tasks (their kill sequence) and
// exits. A local worker gets window 0 (never judge the parent silent): end
// of input already tells it the parent died, and a parent stopped with
// Ctrl-Z must find its tasks still there. Nothing is decided from a
// launcher's exit status.
//
// A remote worker (window set) lets STARTED and OUTPUT wait up to 20 ms for
// the next frame and writes them together (FrameOutput.swift): relays with
// Nagle's algorithm on a TCP hop (srun) would otherwise hold the second of
// two small writes for a delayed ACK. Spread over hosts, a pool fails every
// task a lost host held, announced or not (WorkerHost.swift).
//
// Queued tasks (prefetch, chunksize): a slot may hold tasks behind the one
// it runs, so it never waits for the round trip. Two frames keep that from
// changing what the submitter sees. A task whose output may make the
// submitter stop the pool (PoolTask.asksBeforeNextTask: for pfutures a job
// that did not succeed; any task that threw) holds its lane: its RESULT
// says so, and the lane starts nothing more until RESUME, which the parent
// sends once the result's callbacks have run (they may have sent DRAIN or
// STOP first). After END no RESUME can come, so a held lane goes on. And
// the parent RECALLs a task waiting behind another when the one ahead has
// run 50 ms, when its slot is above a lowered cap, or, with nothing else
// queued, when a slot is idle or a new worker could take one; a worker
// that has not started it answers RESULT recalled and the parent gives it
// to another slot; one already started just runs. The parent writes each
// link's frames in the order it decided them, so a RECALL never passes the
// JOBS it names, nor a JOBS the DRAIN that follows it.
//
// Versions: 2 put many tasks on one stream (slots, ids, heartbeats both
// ways); 3 added a job's working directory, variables and stdin block to
// the "job" payload (--workdir, --env, --pipe); 4 added RESUME, RECALL and
// RESULT's held flag. Ends of different versions refuse each other
// at SETUP/HELLO with one message naming both.
//
// Frame (all integers little-endian):
//
//   u32 n | u8 type | u64 id | payload (n - 9 bytes) | 0x0A
//
// n counts type, id and payload; n ≤ 9 + maxPayload. id is the task's id,
// 0 for frames about no task. The closing newline lets relays that hold
// output until a newline (srun without -u) pass every frame at once; a
// frame without it is malformed. A byte string is u32 length + bytes; a
// duration is u64 nanoseconds (0: none).
//
//   type  name         dir  payload
//   0x01  HELLO        W→P  "PFW" u8 version | u32 pid | u32 slots | string host
//   0x02  SETUP        P→W  "PFW" u8 version | u64 interval | u64 window (0: never judge the
//                           parent silent) | u32 slots (0: cores)
//                           | u8 has-initializer [| string task | string payload]
//   0x03  HEARTBEAT    both (empty)
//   0x10  JOBS         P→W  u32 count, then count × (u64 id | u32 slot | string task | string payload)
//   0x11  STOP         P→W  (empty)
//   0x12  END          P→W  (empty)
//   0x13  DRAIN        P→W  (empty): answer queued tasks CANCELLED, let running ones end
//   0x14  RESUME       P→W  u32 slot: the lane a held RESULT paused may start its next task
//   0x15  RECALL       P→W  (empty; id: the task): answer it RECALLED if not yet started
//   0x20  STARTED      W→P  i32 pid (0: the task has no process)
//   0x21  OUTPUT       W→P  u8 stream (1 stdout, 2 stderr) | bytes (the rest)
//   0x22  RESULT       W→P  u8 status (ResultStatus) | u8 held (1: the lane waits for
//                           RESUME) | bytes (the rest)
//   0x23  INIT_FAILED  W→P  text (the rest): why the initializer failed
//   0x24  GOODBYE      W→P  (empty): the worker is exiting cleanly after END
//
// RESULT status: 0 returned (bytes: the task's encoded output), 1 threw
// (bytes: the error's text), 2 cancelled (DRAIN or STOP came before it
// started), 3 recalled (RECALL came before it started; it runs elsewhere).
//
// A task's payload is its own `encoded()` bytes; pfutures' built-in task
// "job" is laid out in Sources/Jobs/JobWire.swift, beside its code.
//
// A version mismatch, a frame of unknown type, a truncated, oversized or
// unterminated frame is a ProtocolError: the reader stops with one clear
// message; it never guesses or hangs.
import FuturesCore
#if canImport(Glibc)
import Glibc
#endif

/// The protocol version both ends put in SETUP and HELLO.
public let workerProtocolVersion: UInt8 = 4
/// The bytes that open SETUP and HELLO.
package let workerProtocolMagic: [UInt8] = Array("PFW".utf8)
/// The largest payload a frame may carry.
package let maxPayload = 64 << 20

/// A malformed or unexpected frame.
public struct ProtocolError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How a task ended, in a RESULT frame.
package enum ResultStatus: UInt8, Sendable {
    /// It returned; the bytes are its encoded output.
    case returned = 0
    /// It threw; the bytes are the error's text.
    case threw = 1
    /// DRAIN or STOP came before it started; it never ran.
    case cancelled = 2
    /// RECALL came before it started; the pool gives it to another slot.
    case recalled = 3
}

/// One task in a JOBS frame.
package struct WireTask: Sendable, Equatable {
    package var id: UInt64
    package var slot: UInt32
    package var name: [UInt8]
    package var payload: [UInt8]
    package init(id: UInt64, slot: UInt32, name: [UInt8], payload: [UInt8]) {
        self.id = id
        self.slot = slot
        self.name = name
        self.payload = payload
    }
}

/// Every frame of the protocol, decoded.
package enum Frame: Sendable, Equatable {
    case hello(version: UInt8, pid: Int32, slots: UInt32, host: [UInt8])
    case setup(version: UInt8, interval: Duration, window: Duration?, slots: UInt32, initializer: WireTask?)
    case heartbeat
    case jobs([WireTask])
    case stop
    case end
    case drain
    case resume(slot: UInt32)
    case recall(id: UInt64)
    case started(id: UInt64, pid: Int32)
    case output(id: UInt64, stream: TaskStream, bytes: [UInt8])
    /// `held`: the task's lane starts nothing more until RESUME.
    case result(id: UInt64, status: ResultStatus, held: Bool = false, bytes: [UInt8])
    case initFailed(String)
    case goodbye

    /// Type codes, as in the table above.
    package enum Kind: UInt8 {
        case hello = 0x01, setup = 0x02, heartbeat = 0x03
        case jobs = 0x10, stop = 0x11, end = 0x12, drain = 0x13, resume = 0x14, recall = 0x15
        case started = 0x20, output = 0x21, result = 0x22, initFailed = 0x23, goodbye = 0x24
    }

    /// The frame as bytes on the wire.
    package func encoded() -> [UInt8] {
        var w = FrameWriter()
        var id: UInt64 = 0
        let kind: Kind
        switch self {
        case .hello(let version, let pid, let slots, let host):
            kind = .hello
            w.raw(workerProtocolMagic); w.u8(version); w.i32(pid); w.u32(slots); w.string(host)
        case .setup(let version, let interval, let window, let slots, let initializer):
            kind = .setup
            w.raw(workerProtocolMagic); w.u8(version); w.duration(interval); w.duration(window); w.u32(slots)
            w.u8(initializer == nil ? 0 : 1)
            if let initializer { w.string(initializer.name); w.string(initializer.payload) }
        case .heartbeat: kind = .heartbeat
        case .jobs(let tasks):
            kind = .jobs
            w.u32(UInt32(tasks.count))
            for task in tasks { w.u64(task.id); w.u32(task.slot); w.string(task.name); w.string(task.payload) }
        case .stop: kind = .stop
        case .end: kind = .end
        case .drain: kind = .drain
        case .resume(let slot): kind = .resume; w.u32(slot)
        case .recall(let task): kind = .recall; id = task
        case .started(let task, let pid): kind = .started; id = task; w.i32(pid)
        case .output(let task, let stream, let bytes): kind = .output; id = task; w.u8(stream.rawValue); w.raw(bytes)
        case .result(let task, let status, let held, let bytes):
            kind = .result; id = task; w.u8(status.rawValue); w.u8(held ? 1 : 0); w.raw(bytes)
        case .initFailed(let why): kind = .initFailed; w.raw(Array(why.utf8))
        case .goodbye: kind = .goodbye
        }
        return w.frame(kind.rawValue, id: id)
    }

    /// Decodes one frame's type, id and payload.
    /// - Throws: `ProtocolError` for an unknown type or a malformed payload.
    package static func decode(type: UInt8, id: UInt64, payload: [UInt8]) throws(ProtocolError) -> Frame {
        guard let kind = Kind(rawValue: type) else { throw ProtocolError("unknown frame type 0x\(String(type, radix: 16))") }
        var r = FrameReader(payload)
        let frame: Frame
        switch kind {
        case .hello:
            let version = try r.magicAndVersion()
            frame = .hello(version: version, pid: try r.i32(), slots: try r.u32(), host: try r.string())
        case .setup:
            let version = try r.magicAndVersion()
            // A SETUP of another version is reported as such, not as garbage.
            guard version == workerProtocolVersion else {
                return .setup(version: version, interval: .zero, window: .zero, slots: 0, initializer: nil)
            }
            let interval = try r.duration() ?? .seconds(1), window = try r.duration()
            let slots = try r.u32()
            let initializer = try r.u8() == 0 ? nil : WireTask(id: 0, slot: 0, name: try r.string(), payload: try r.string())
            frame = .setup(version: version, interval: interval, window: window, slots: slots, initializer: initializer)
        case .heartbeat: frame = .heartbeat
        case .jobs:
            let count = try r.u32()
            guard count <= 1 << 16 else { throw ProtocolError("\(count) tasks in one JOBS frame") }
            var tasks: [WireTask] = []
            for _ in 0..<count {
                tasks.append(WireTask(id: try r.u64(), slot: try r.u32(), name: try r.string(), payload: try r.string()))
            }
            frame = .jobs(tasks)
        case .stop: frame = .stop
        case .end: frame = .end
        case .drain: frame = .drain
        case .resume: frame = .resume(slot: try r.u32())
        case .recall: frame = .recall(id: id)
        case .started: frame = .started(id: id, pid: try r.i32())
        case .output:
            guard let stream = TaskStream(rawValue: try r.u8()) else { throw ProtocolError("unknown output stream") }
            frame = .output(id: id, stream: stream, bytes: r.rest())
        case .result:
            guard let status = ResultStatus(rawValue: try r.u8()) else { throw ProtocolError("unknown result status") }
            let held = try r.u8()
            guard held <= 1 else { throw ProtocolError("RESULT's held flag is \(held)") }
            frame = .result(id: id, status: status, held: held == 1, bytes: r.rest())
        case .initFailed: frame = .initFailed(String(decoding: r.rest(), as: UTF8.self))
        case .goodbye: frame = .goodbye
        }
        guard r.atEnd else { throw ProtocolError("trailing bytes in a \(kind) frame") }
        return frame
    }
}

/// Builds a frame's payload.
package struct FrameWriter {
    package private(set) var bytes: [UInt8] = []
    package init() {}

    package mutating func raw(_ b: [UInt8]) { bytes += b }
    package mutating func u8(_ v: UInt8) { bytes.append(v) }
    package mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    package mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    package mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    package mutating func f64(_ v: Double) { u64(v.bitPattern) }
    package mutating func string(_ s: [UInt8]) { u32(UInt32(s.count)); bytes += s }
    package mutating func duration(_ d: Duration?) {
        guard let d else { u64(0); return }
        let (s, a) = d.components
        u64(UInt64(max(1, s * 1_000_000_000 + a / 1_000_000_000)))
    }

    /// The whole frame: length, type, id, this payload, newline.
    package func frame(_ type: UInt8, id: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 14)
        withUnsafeBytes(of: UInt32(bytes.count + 9).littleEndian) { out += $0 }
        out.append(type)
        withUnsafeBytes(of: id.littleEndian) { out += $0 }
        out += bytes
        out.append(0x0A)
        return out
    }
}

/// Reads a frame's payload, failing on truncation.
package struct FrameReader {
    private let bytes: [UInt8]
    private var offset = 0
    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package var atEnd: Bool { offset == bytes.count }

    private mutating func take(_ n: Int) throws(ProtocolError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - offset else { throw ProtocolError("truncated frame") }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }
    package mutating func u8() throws(ProtocolError) -> UInt8 { try take(1).first! }
    package mutating func u32() throws(ProtocolError) -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
    package mutating func u64() throws(ProtocolError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    package mutating func i32() throws(ProtocolError) -> Int32 { Int32(bitPattern: try u32()) }
    package mutating func f64() throws(ProtocolError) -> Double { Double(bitPattern: try u64()) }
    package mutating func string() throws(ProtocolError) -> [UInt8] { Array(try take(Int(try u32()))) }
    package mutating func duration() throws(ProtocolError) -> Duration? {
        let n = try u64()
        return n == 0 ? nil : .nanoseconds(Int64(min(n, UInt64(Int64.max))))
    }
    /// Everything not read yet.
    package mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    mutating func magicAndVersion() throws(ProtocolError) -> UInt8 {
        guard Array(try take(3)) == workerProtocolMagic else { throw ProtocolError("not a pfutures worker stream") }
        return try u8()
    }
}

/// Reads whole frames from a descriptor (blocking), through a buffer so that
/// frames that arrive together cost one read.
package final class FrameInput {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0

    package init(fd: Int32) { self.fd = fd }

    /// The next frame, or nil at a clean end of input (between frames).
    /// - Throws: `ProtocolError` for a truncated, oversized, unterminated or
    ///   unknown frame, or a failed read.
    package func next() throws(ProtocolError) -> Frame? {
        guard let header = try read(4, allowEOF: true) else { return nil }
        let length = header.reversed().reduce(0) { $0 << 8 | Int($1) }
        guard length >= 9 else { throw ProtocolError("frame of \(length) bytes is shorter than its header") }
        guard length <= maxPayload + 9 else {
            throw ProtocolError("frame of \(length) bytes is over the \(maxPayload + 9)-byte limit")
        }
        let body = try read(length + 1, allowEOF: false)!
        guard body[length] == 0x0A else { throw ProtocolError("frame does not end with a newline") }
        let id = body[1..<9].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return try Frame.decode(type: body[0], id: id, payload: Array(body[9..<length]))
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
