// The bytes of pfutures' built-in tasks inside JOBS and RESULT frames
// (the frames themselves: Sources/ProcessPool/WorkerProtocol.swift).
//
// "job" payload (integers little-endian, strings u32 length + bytes,
// durations u64 nanoseconds with 0 for none):
//
//   u8 action (ActionCode) | u64 sequence | duration timeout | duration kill-after
//   | u8 flags (JobFlags) | string shell | u32 count | count × string
//   | string workdir (empty: none) | u32 variables | variables × string NAME=VALUE
//   | u8 input: 0 none | 1 (--pipe) string bytes | 2 (--pipepart) string path, u64 offset, u64 length
//
//   strings: exec → argv; shell → [script]; copy → [source, destination];
//            invalid → [command, reason]
//
// "job" output, in RESULT:
//
//   u8 outcome (OutcomeCode) | i32 code | u64 bytes copied | f64 started at
//   (seconds since the epoch) | f64 runtime (seconds) | string reason
//   (cannot run, short of resources) | u8 has-message [| string message]
//
// "initializer" payload: string shell | string command; output: empty
// (a failure comes back as a thrown error's text).
import ProcessPool

/// Action codes of a "job" payload.
enum ActionCode: UInt8 {
    case exec = 0, shell = 1, copy = 2, invalid = 3
}

/// Flag bits of a "job" payload.
struct JobFlags: OptionSet {
    let rawValue: UInt8
    static let captureOutput = JobFlags(rawValue: 1 << 0)
    static let inheritStdin = JobFlags(rawValue: 1 << 1)
    static let preserveTimes = JobFlags(rawValue: 1 << 2)
    static let createParents = JobFlags(rawValue: 1 << 3)
    static let noDereference = JobFlags(rawValue: 1 << 4)
    static let fsync = JobFlags(rawValue: 1 << 5)
}

/// Outcome codes of a "job" result.
enum OutcomeCode: UInt8 {
    case exited = 0, signaled = 1, timedOut = 2, notFound = 3, cannotRun = 4, lost = 5, shortOfResources = 6
}

extension Job {
    package func encoded() -> [UInt8] {
        var w = FrameWriter()
        let strings: [[UInt8]]
        switch action {
        case .process(.exec(let argv)): w.u8(ActionCode.exec.rawValue); strings = argv
        case .process(.shell(let script)): w.u8(ActionCode.shell.rawValue); strings = [script]
        case .copy(let source, let destination): w.u8(ActionCode.copy.rawValue); strings = [source, destination]
        case .invalid(let command, let reason): w.u8(ActionCode.invalid.rawValue); strings = [command, Array(reason.utf8)]
        }
        w.u64(UInt64(sequence))
        w.duration(settings.timeout)
        w.duration(settings.killAfter == .zero ? nil : settings.killAfter)
        var flags = JobFlags()
        if settings.captureOutput { flags.insert(.captureOutput) }
        if settings.inheritStdin { flags.insert(.inheritStdin) }
        if settings.copy.preserveTimes { flags.insert(.preserveTimes) }
        if settings.copy.createParents { flags.insert(.createParents) }
        if settings.copy.noDereference { flags.insert(.noDereference) }
        if settings.copy.fsync { flags.insert(.fsync) }
        w.u8(flags.rawValue)
        w.string(settings.shell)
        w.u32(UInt32(strings.count))
        for string in strings { w.string(string) }
        w.string(settings.placement.workdir ?? [])
        w.u32(UInt32(settings.placement.environment.count))
        for variable in settings.placement.environment { w.string(variable) }
        switch input {
        case nil: w.u8(0)
        case .bytes(let bytes)?:
            w.u8(1)
            w.string(bytes)
        case .fileRange(let path, let offset, let length)?:
            w.u8(2)
            w.string(path)
            w.u64(UInt64(offset))
            w.u64(UInt64(length))
        case .stream?:
            preconditionFailure("--round-robin jobs run in pfutures' own process")
        }
        return w.bytes
    }

    package init(decoding bytes: [UInt8]) throws {
        var r = FrameReader(bytes)
        guard let code = ActionCode(rawValue: try r.u8()) else { throw ProtocolError("unknown job action") }
        let sequence = Int(clamping: try r.u64())
        var settings = JobSettings()
        settings.timeout = try r.duration()
        settings.killAfter = try r.duration() ?? .zero
        let flags = JobFlags(rawValue: try r.u8())
        settings.captureOutput = flags.contains(.captureOutput)
        settings.inheritStdin = flags.contains(.inheritStdin)
        settings.copy.preserveTimes = flags.contains(.preserveTimes)
        settings.copy.createParents = flags.contains(.createParents)
        settings.copy.noDereference = flags.contains(.noDereference)
        settings.copy.fsync = flags.contains(.fsync)
        settings.shell = try r.string()
        let count = try r.u32()
        guard count <= 1 << 20 else { throw ProtocolError("\(count) strings in a job") }
        var strings: [[UInt8]] = []
        for _ in 0..<count { strings.append(try r.string()) }
        let workdir = try r.string()
        settings.placement.workdir = workdir.isEmpty ? nil : workdir
        let variables = try r.u32()
        guard variables <= 1 << 16 else { throw ProtocolError("\(variables) variables in a job") }
        for _ in 0..<variables { settings.placement.environment.append(try r.string()) }
        let input: JobInput?
        switch try r.u8() {
        case 0: input = nil
        case 1: input = .bytes(try r.string())
        case 2: input = .fileRange(path: try r.string(), offset: Int(clamping: try r.u64()), length: Int(clamping: try r.u64()))
        default: throw ProtocolError("unknown job input kind")
        }
        guard r.atEnd else { throw ProtocolError("trailing bytes in a job") }
        let action: JobAction
        switch code {
        case .exec: action = .process(.exec(argv: strings))
        case .shell where strings.count == 1: action = .process(.shell(script: strings[0]))
        case .copy where strings.count == 2: action = .copy(source: strings[0], destination: strings[1])
        case .invalid where strings.count == 2:
            action = .invalid(command: strings[0], reason: String(decoding: strings[1], as: UTF8.self))
        default: throw ProtocolError("a \(code) job with \(strings.count) strings")
        }
        self.init(sequence: sequence, action: action, settings: settings, input: input)
    }

    package static func encode(output result: JobResult) -> [UInt8] {
        var w = FrameWriter()
        var reason: [UInt8] = []
        switch result.outcome {
        case .exited(let code): w.u8(OutcomeCode.exited.rawValue); w.i32(code)
        case .signaled(let signal): w.u8(OutcomeCode.signaled.rawValue); w.i32(signal)
        case .timedOut: w.u8(OutcomeCode.timedOut.rawValue); w.i32(0)
        case .spawnFailed(.notFound): w.u8(OutcomeCode.notFound.rawValue); w.i32(0)
        case .spawnFailed(.cannotRun(let why)): w.u8(OutcomeCode.cannotRun.rawValue); w.i32(0); reason = Array(why.utf8)
        case .spawnFailed(.shortOfResources(let why)):
            w.u8(OutcomeCode.shortOfResources.rawValue); w.i32(0); reason = Array(why.utf8)
        case .lost(let why): w.u8(OutcomeCode.lost.rawValue); w.i32(0); reason = Array(why.utf8)
        }
        w.u64(UInt64(max(0, result.bytesCopied)))
        w.f64(result.startedAt)
        w.f64(result.runtime)
        w.string(reason)
        w.u8(result.message == nil ? 0 : 1)
        if let message = result.message { w.string(message) }
        return w.bytes
    }

    package static func decodeOutput(_ bytes: [UInt8]) throws -> JobResult {
        var r = FrameReader(bytes)
        guard let code = OutcomeCode(rawValue: try r.u8()) else { throw ProtocolError("unknown job outcome") }
        let value = try r.i32(), copied = Int(clamping: try r.u64()), startedAt = try r.f64(), runtime = try r.f64()
        let reason = String(decoding: try r.string(), as: UTF8.self)
        let message = try r.u8() == 0 ? nil : try r.string()
        guard r.atEnd else { throw ProtocolError("trailing bytes in a job result") }
        let outcome: JobOutcome
        switch code {
        case .exited: outcome = .exited(value)
        case .signaled: outcome = .signaled(value)
        case .timedOut: outcome = .timedOut
        case .notFound: outcome = .spawnFailed(.notFound)
        case .cannotRun: outcome = .spawnFailed(.cannotRun(reason))
        case .shortOfResources: outcome = .spawnFailed(.shortOfResources(reason))
        case .lost: outcome = .lost(reason)
        }
        return JobResult(outcome: outcome, startedAt: startedAt, runtime: runtime, bytesCopied: copied, message: message)
    }
}

extension InitializerJob {
    package func encoded() -> [UInt8] {
        var w = FrameWriter()
        w.string(shell)
        w.string(command)
        return w.bytes
    }

    package init(decoding bytes: [UInt8]) throws {
        var r = FrameReader(bytes)
        let shell = try r.string(), command = try r.string()
        guard r.atEnd else { throw ProtocolError("trailing bytes in an initializer") }
        self.init(command: command, shell: shell)
    }

    package static func encode(output: Int32) -> [UInt8] { [] }
    package static func decodeOutput(_ bytes: [UInt8]) throws -> Int32 { 0 }
}
