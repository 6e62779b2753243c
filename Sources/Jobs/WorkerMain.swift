// The worker side of --pool process: pfutures re-executed in a hidden mode.
// It reads JOBS frames on stdin, runs one job at a time exactly as the
// thread pool would (same launcher, same copier), streams STARTED, OUTPUT
// and RESULT frames on stdout, and exits at end of input.
import FuturesCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a worker runs jobs: fixed for its whole life, given on its argv.
public struct WorkerSettings: Sendable, Equatable {
    public var shell: [UInt8] = Array("/bin/sh".utf8)
    public var initializer: [UInt8]?
    public var copy = CopyOptions()

    public init() {}

    /// The hidden argument that turns pfutures into a worker.
    public static let argument = Array("__pfutures-worker".utf8)

    /// The argv words after `argument` that carry these settings.
    public var arguments: [[UInt8]] {
        var words: [[UInt8]] = [Array("shell".utf8), shell]
        if let initializer { words += [Array("initializer".utf8), initializer] }
        let flags = (copy.preserveTimes ? "p" : "") + (copy.createParents ? "P" : "")
            + (copy.noDereference ? "L" : "") + (copy.fsync ? "f" : "")
        words += [Array("copy".utf8), Array(("=" + flags).utf8)]
        return words
    }

    /// Settings from argv words made by `arguments`.
    /// - Throws: `ProtocolError` for words it does not know.
    public init(arguments words: [[UInt8]]) throws(ProtocolError) {
        var i = 0
        while i + 1 < words.count {
            let value = words[i + 1]
            switch String(decoding: words[i], as: UTF8.self) {
            case "shell": shell = value
            case "initializer": initializer = value
            case "copy":
                copy.preserveTimes = value.contains(0x70)
                copy.createParents = value.contains(0x50)
                copy.noDereference = value.contains(0x4C)
                copy.fsync = value.contains(0x66)
            default: throw ProtocolError("unknown worker setting")
            }
            i += 2
        }
        guard i == words.count else { throw ProtocolError("worker settings come in pairs") }
    }
}

/// One worker process's life.
public enum WorkerMain {
    /// Serves jobs from stdin until end of input; returns the exit status
    /// (0 at a clean end, 1 when the initializer failed, 2 on a protocol error).
    public static func serve(_ settings: WorkerSettings) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        // The parent decides about stopping. Blocked, not ignored: an ignored
        // disposition would be inherited by the jobs, a blocked mask is not.
        var stopping = sigset_t()
        sigemptyset(&stopping)
        for signo in [SIGINT, SIGHUP, SIGTERM, SIGUSR1, SIGUSR2] { sigaddset(&stopping, signo) }
        pthread_sigmask(SIG_BLOCK, &stopping, nil)
        let out = FrameOutput(fd: 1)
        var hello = FrameWriter()
        hello.string(workerProtocolMagic)
        hello.u8(workerProtocolVersion)
        out.send(hello.frame(.hello))

        let launcher = JobLauncher(shell: settings.shell, inheritStdin: false)
        if let command = settings.initializer {
            do { try launcher.runInitializer(command, stopSwitch: nil) } catch {
                var w = FrameWriter()
                w.string(Array("\(error)".utf8))
                out.send(w.frame(.initFailed))
                return 1
            }
        }
        let inbox = Inbox(output: out)
        inbox.startReading()
        let copier = FileCopier(options: settings.copy)
        while let job = inbox.nextJob() {
            run(job, launcher: launcher, copier: copier, output: out, stop: inbox.stopSwitch)
        }
        return inbox.protocolError == nil ? 0 : 2
    }

    private static func run(_ job: WireJob, launcher: JobLauncher, copier: FileCopier, output: FrameOutput,
                            stop: StopSwitch) {
        let startedAt = wallClockNow()
        let clock = ContinuousClock.now
        var result: WireOutcome
        switch job.kind {
        case .exec, .shell:
            let invocation: Invocation = job.kind == .exec ? .exec(argv: job.strings) : .shell(script: job.strings.first ?? [])
            switch launcher.launch(invocation, sequence: Int(job.sequence), slot: Int(job.slot), capture: job.capture) {
            case .failure(let failure):
                result = .finished(.spawnFailed(failure), bytesCopied: 0)
            case .success(let process):
                var started = FrameWriter()
                started.u64(job.sequence)
                started.i32(process.pid)
                output.send(started.frame(.started))
                let forwarder = ChunkForwarder(sequence: job.sequence, output: output)
                let outcome = process.wait(receiver: job.capture ? forwarder : nil, timeout: job.timeout,
                                           killSequence: KillSequence(grace: job.killAfter), stopSwitch: stop)
                result = .finished(outcome, bytesCopied: 0)
            }
        case .copy:
            var started = FrameWriter()  // pid 0: the copy runs in the worker itself
            started.u64(job.sequence)
            started.i32(0)
            output.send(started.frame(.started))
            let timeoutAt = job.timeout.map { ContinuousClock.now.advanced(by: $0) }
            var timedOut = false
            do throws(CopyFailure) {
                guard job.strings.count == 2 else { throw CopyFailure("malformed copy job") }
                let bytes = try copier.copy(job.strings[0], to: job.strings[1]) {
                    if let timeoutAt, ContinuousClock.now >= timeoutAt { timedOut = true; return true }
                    return stop.isFired
                }
                result = .finished(.exited(0), bytesCopied: bytes)
            } catch {
                result = error.stopped ? .finished(timedOut ? .timedOut : .signaled(SIGTERM), bytesCopied: 0)
                                       : .copyFailed(error.reason)
            }
        }
        let elapsed = ContinuousClock.now - clock
        let runtime = elapsed.inSeconds
        output.send(result.frame(sequence: job.sequence, startedAt: startedAt, runtime: runtime))
    }
}

/// Writes whole frames to a descriptor from any thread.
final class FrameOutput: Sendable {
    private let fd: Int32
    private let lock = Mutex<Void>(())
    init(fd: Int32) { self.fd = fd }
    func send(_ frame: [UInt8]) { lock.withLock { _ in try? writeAll(fd, frame) } }
}

/// Sends a job's output as OUTPUT frames while it runs.
private final class ChunkForwarder: OutputReceiver {
    private let sequence: UInt64
    private let output: FrameOutput
    init(sequence: UInt64, output: FrameOutput) { self.sequence = sequence; self.output = output }

    func receive(_ bytes: UnsafeRawBufferPointer, from stream: OutputStream) {
        var w = FrameWriter()
        w.u64(sequence)
        w.u8(stream == .stdout ? 1 : 2)
        w.string(Array(bytes))
        output.send(w.frame(.output))
    }
}

/// The worker's queue of jobs, filled by a thread that reads stdin, so
/// STOP and DRAIN arrive while a job runs.
/// @unchecked Sendable: state behind `lock`.
private final class Inbox: @unchecked Sendable {
    let stopSwitch = StopSwitch()
    private let lock = ConditionLock()
    private let output: FrameOutput
    private var queue: [WireJob] = []
    private var ended = false
    private var sawEnd = false
    private(set) var protocolError: ProtocolError?

    init(output: FrameOutput) { self.output = output }

    func startReading() {
        WorkerThread.detach(name: "inbox") { [self] in read() }
    }

    func nextJob() -> WireJob? {
        lock.withLock {
            while queue.isEmpty && !ended { lock.wait() }
            return queue.isEmpty ? nil : queue.removeFirst()
        }
    }

    private func read() {
        let input = FrameInput(fd: 0)
        while true {
            do throws(ProtocolError) {
                guard let (type, payload) = try input.next() else { break }
                switch type {
                case .jobs:
                    let jobs = try WireJob.decode(payload)
                    lock.withLock { queue += jobs; lock.broadcast() }
                case .drain: drain()
                case .end:
                    lock.withLock { sawEnd = true }
                case .stop:
                    stopSwitch.fire()
                    drain()
                default: throw ProtocolError("unexpected frame \(type) from the parent")
                }
            } catch {
                reportError("worker: protocol error: \(error.description)")
                lock.withLock { protocolError = error }
                stopSwitch.fire()
                drain()
                break
            }
        }
        // End of input without END: pfutures died. Stop, so no job lives on.
        if !lock.withLock({ sawEnd }) {
            stopSwitch.fire()
            drain()
        }
        lock.withLock { ended = true; lock.broadcast() }
    }

    private func drain() {
        let dropped: [WireJob] = lock.withLock { defer { queue.removeAll() }; return queue }
        for job in dropped {
            output.send(WireOutcome.cancelled.frame(sequence: job.sequence, startedAt: wallClockNow(), runtime: 0))
        }
    }
}
