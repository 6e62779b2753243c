// The parent's end of one worker process: how it is started (a launcher),
// its two pipes, the tasks it holds per slot, and when it was last heard.
// ProcessPoolExecutor owns the links; their mutable fields change under
// the pool's lock, except writes, which a link serialises itself.
import CSpawn
import FuturesCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a process pool starts one worker: a program that calls
/// `WorkerServer.serve` and speaks the protocol on its stdin and stdout
/// (a local re-execution, or later `ssh HOST pfutures …`, `srun …`).
public struct WorkerLauncher: Sendable {
    /// The program's path.
    public var path: [UInt8]
    /// Its argv, argv[0] included.
    public var arguments: [[UInt8]]
    /// The worker runs on this machine, so the task pids it reports are
    /// ours to signal: when it dies, the pool kills the process groups of
    /// the tasks it had started rather than leave them orphaned.
    public var isLocal: Bool

    /// - Parameters: path: the program; arguments: its argv, argv[0]
    ///   included; isLocal: whether the worker runs on this machine.
    public init(path: [UInt8], arguments: [[UInt8]], isLocal: Bool = true) {
        self.path = path
        self.arguments = arguments
        self.isLocal = isLocal
    }

    /// `executable __pfutures-worker`: a program on this machine that hands
    /// that argument to `WorkerServer.serve`.
    public static func local(executable: [UInt8]) -> WorkerLauncher {
        WorkerLauncher(path: executable, arguments: [executable, Array(WorkerServer.argument.utf8)])
    }
}

/// How often both ends send HEARTBEAT, and how long a silent peer lives.
public struct Heartbeat: Sendable, Equatable {
    /// Time between two heartbeats.
    public var interval: Duration
    /// A peer silent this long is dead.
    public var window: Duration
    /// - Parameters: interval: time between heartbeats (default 1 s);
    ///   window: silence that counts as death (default 5 s).
    public init(interval: Duration = .seconds(1), window: Duration = .seconds(5)) {
        self.interval = interval
        self.window = window
    }
}

/// One submitted task, from queue to result; not generic, so the pool's
/// bookkeeping costs no metadata look-ups. Mutable fields: under the pool's lock.
final class PendingTask: @unchecked Sendable {
    let id: UInt64
    let name: [UInt8]
    let payload: @Sendable (Int) -> [UInt8]
    let decode: @Sendable ([UInt8]) throws -> any Sendable
    let future: AnyFuture
    let observer: (any TaskObserver)?
    var slot = 0
    /// Its future is running: it was handed to a worker (maybe one that
    /// died before starting it, so it is queued again).
    var claimed = false
    var started = false
    /// A RECALL for it is on its way to the worker holding it.
    var recalling = false
    /// When STARTED came (monotonic nanoseconds).
    var startedAt: Int64 = 0
    /// When it was sent to its worker, among all sends (its lane runs in this order).
    var sendOrder: UInt64 = 0
    /// The pid STARTED reported (0: none), the leader of the task's process group.
    var pid: Int32 = 0

    init(id: UInt64, name: [UInt8], payload: @escaping @Sendable (Int) -> [UInt8],
         decode: @escaping @Sendable ([UInt8]) throws -> any Sendable, future: AnyFuture, observer: (any TaskObserver)?) {
        self.id = id
        self.name = name
        self.payload = payload
        self.decode = decode
        self.future = future
        self.observer = observer
    }

    /// Settles the future from a RESULT frame.
    func complete(_ status: ResultStatus, _ bytes: [UInt8]) {
        switch status {
        case .returned:
            do { try future.finish(.success(try decode(bytes))) } catch { try? future.finish(.failure(error)) }
        case .threw:
            let message = String(decoding: bytes, as: UTF8.self)
            try? future.finish(.failure(RemoteTaskError(task: String(decoding: name, as: UTF8.self), message: message)))
        case .cancelled, .recalled:  // a recalled task is queued again, never completed
            try? future.finish(.failure(CancelledError()))
        }
    }
}

/// A frame's place in a link's output, taken under the pool's lock so that
/// frames reach the worker in the order the pool decided them (a RECALL
/// never before the JOBS it names, a DRAIN never before a JOBS planned
/// earlier); a JOBS frame's bytes are made after, outside the lock.
/// @unchecked Sendable: `bytes` changes under the link's `outboxLock`.
final class OutgoingFrame: @unchecked Sendable {
    fileprivate var bytes: [UInt8]?
    fileprivate let endsInput: Bool
    fileprivate init(bytes: [UInt8]?, endsInput: Bool = false) {
        self.bytes = bytes
        self.endsInput = endsInput
    }
}

/// One worker process as the pool sees it.
/// @unchecked Sendable: fields change under the pool's lock; `write` and
/// `closeInput` under `writeLock`; the outbox under `outboxLock`, never held
/// while writing; `lastHeard` is atomic.
final class WorkerLink: @unchecked Sendable {
    enum State { case starting, live, ending, reaped }

    /// Global slot numbers this worker runs tasks in.
    var slots: [Int]
    var depth: [Int: Int] = [:]      // tasks sent per slot and not answered
    var held: [UInt64: PendingTask] = [:]
    var assigned = 0
    var state = State.starting
    var pid: pid_t = 0
    var output: Int32 = -1
    /// The host name its HELLO gave; nil until then.
    var helloHost: [UInt8]?
    var deathReason: String?
    var endedForWantOfThreads = false  // set by reap()
    let launcher: WorkerLauncher
    /// The pool's host this worker serves (pools spread over hosts only).
    let host: HostState?
    let lastHeard = Atomic<Int64>(monotonicNanoseconds())

    private let writeLock = ConditionLock()
    private var input: Int32 = -1
    private let outboxLock = ConditionLock()
    private var outbox: [OutgoingFrame] = []

    init(slots: [Int], launcher: WorkerLauncher, host: HostState? = nil) {
        self.slots = slots
        self.launcher = launcher
        self.host = host
        for slot in slots { depth[slot] = 0 }
    }

    /// Starts the worker with its launcher; the pid, or -errno.
    func spawn() -> pid_t {
        var toWorker: [Int32] = [-1, -1], fromWorker: [Int32] = [-1, -1]
        if pf_pipe(&toWorker) != 0 { return -errno }
        if pf_pipe(&fromWorker) != 0 {
            let code = errno
            close(toWorker[0]); close(toWorker[1])
            return -code
        }
        // No parent-death signal: it would follow the spawning thread, not
        // the pool. A worker whose input ends without END stops instead.
        let pid = spawnChild(path: launcher.path, argv: launcher.arguments, environment: currentEnvironment(),
                             stdio: ChildStdio(stdin: toWorker[0], stdout: fromWorker[1]), deathSignal: 0)
        close(toWorker[0])
        close(fromWorker[1])
        guard pid > 0 else {
            close(toWorker[1]); close(fromWorker[0])
            return pid
        }
        writeLock.withLock { input = toWorker[1] }
        output = fromWorker[0]
        self.pid = pid
        heard()
        return pid
    }

    func heard() { lastHeard.store(monotonicNanoseconds(), ordering: .relaxed) }

    /// Nanoseconds since the worker was last heard from.
    var silence: Int64 { monotonicNanoseconds() - lastHeard.load(ordering: .relaxed) }

    /// Writes frames; false once the input is closed or the worker gone.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        writeLock.withLock { input >= 0 && (try? writeAll(input, bytes)) != nil }
    }

    /// Takes the next place in the output for a frame made later (`fill`).
    /// Call under the pool's lock.
    func reserve() -> OutgoingFrame {
        let frame = OutgoingFrame(bytes: nil)
        outboxLock.withLock { outbox.append(frame) }
        return frame
    }

    /// Queues `frame` (END: then end of input, so the worker finishes what
    /// it holds and exits). Call under the pool's lock, then `flush`.
    func enqueue(_ frame: Frame) {
        let outgoing = OutgoingFrame(bytes: frame.encoded(), endsInput: frame == .end)
        outboxLock.withLock { outbox.append(outgoing) }
    }

    /// Gives a reserved place its bytes, and writes what is ready.
    func fill(_ frame: OutgoingFrame, with bytes: [UInt8]) {
        outboxLock.withLock { frame.bytes = bytes }
        flush()
    }

    /// Writes the queued frames whose bytes are made, in order, up to the
    /// first that is not; whoever fills that one writes the rest.
    func flush() {
        writeLock.withLock {
            while true {
                let ready: [OutgoingFrame] = outboxLock.withLock {
                    let count = outbox.prefix { $0.bytes != nil }.count
                    defer { outbox.removeFirst(count) }
                    return Array(outbox.prefix(count))
                }
                guard !ready.isEmpty else { return }
                for frame in ready where input >= 0 {
                    try? writeAll(input, frame.bytes!)
                    if frame.endsInput {
                        close(input)
                        input = -1
                    }
                }
            }
        }
    }

    /// Closes the input without END (the worker is gone).
    func closeInput() {
        writeLock.withLock {
            if input >= 0 { close(input) }
            input = -1
        }
    }

    /// Reaps the worker and says how it ended.
    /// Also notes whether it exited for want of a thread (`WorkerServer.noThreadStatus`).
    func reap() -> String {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        var code: Int32 = 0
        switch pf_decode_status(status, &code) {
        case 2: return "worker process \(pid) killed by signal \(code)"
        case 1 where code == WorkerServer.noThreadStatus:
            endedForWantOfThreads = true
            return "worker process \(pid) could not start a thread: \(errnoText(EAGAIN)) (raise ulimit -u)"
        case 1: return "worker process \(pid) exited with status \(code)"
        default: return "worker process \(pid) ended"
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
