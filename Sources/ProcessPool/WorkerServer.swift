// The worker side of the process pool (protocol in WorkerProtocol.swift):
// reads SETUP and JOBS on its input, runs each task in the lane of its
// slot (a lane a held RESULT paused waits for RESUME; RECALL takes back a
// task not started), streams STARTED, OUTPUT and RESULT back, sends and expects
// heartbeats, and exits at END, at end of input or when the parent falls
// silent, stopping its tasks in the last two cases.
import FuturesCore
#if canImport(Glibc)
import Glibc
#endif

/// Serves `PoolTask`s for a `ProcessPoolExecutor` on stdin and stdout.
public enum WorkerServer {
    /// The first argument that turns a program into a worker
    /// (`PROGRAM __pfutures-worker`).
    public static let argument = "__pfutures-worker"

    /// The exit status of a worker that could not start a thread it needs
    /// (EAGAIN: `ulimit -u`); the pool takes it as a worker it cannot have.
    public static let noThreadStatus: Int32 = 75

    /// Serves `tasks` until END or end of input and returns the exit status:
    /// 0 after END, 1 when the initializer failed or the parent went away or
    /// silent, 2 on a protocol error, `noThreadStatus` without a thread.
    public static func serve(tasks: [any PoolTask.Type]) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        // The parent decides about stopping. Blocked, not ignored: an ignored
        // disposition would be inherited by the tasks' children, a mask is reset.
        var stopping = sigset_t()
        sigemptyset(&stopping)
        for signo in [SIGINT, SIGHUP, SIGTERM, SIGUSR1, SIGUSR2] { sigaddset(&stopping, signo) }
        pthread_sigmask(SIG_BLOCK, &stopping, nil)
        // The protocol moves off 0 and 1, so that a task printing to stdout
        // lands on stderr instead of corrupting the stream.
        let input = fcntl(0, F_DUPFD_CLOEXEC, 3), output = fcntl(1, F_DUPFD_CLOEXEC, 3)
        let devNull = open("/dev/null", O_RDONLY)
        dup2(devNull, 0)
        close(devNull)
        dup2(2, 1)
        var runners: [[UInt8]: TaskRunner] = [:]
        for type in tasks { runners[Array(type.taskName.utf8)] = TaskRunner(type) }
        return Server(input: input, output: output, runners: runners).run()
    }
}

/// Runs one task type from its bytes.
private struct TaskRunner {
    let reportsOwnStart: Bool
    /// The encoded output, and whether the pool must see it before the
    /// lane starts another task.
    let run: ([UInt8], any TaskContext) throws -> (output: [UInt8], asks: Bool)

    init<T: PoolTask>(_ type: T.Type) {
        reportsOwnStart = T.reportsOwnStart
        run = { payload, context in
            let output = try T(decoding: payload).run(in: context)
            return (T.encode(output: output), T.asksBeforeNextTask(after: output))
        }
    }
}

/// One worker process's state. @unchecked Sendable: state behind `lock`.
private final class Server: @unchecked Sendable {
    private let input: Int32
    private let out: FrameOutput
    private let runners: [[UInt8]: TaskRunner]
    private let stop = StopSwitch()
    private let lock = ConditionLock()
    private let pause = ConditionLock()    // the heartbeat's own, so no task wakes it
    /// One slot's queued tasks, and the condition its thread sleeps on: a
    /// task for one slot (or one ending) wakes no other lane; on `lock`'s
    /// own condition wait only those who wait for the running tasks to end.
    /// A held lane starts nothing until RESUME (or the end, when no RESUME
    /// can come).
    private struct Lane {
        var tasks: [WireTask] = []
        var held = false
        let waker: ConditionLock.Condition
    }
    private var lanes: [UInt32: Lane] = [:]
    private var laneThreads: [WorkerThread] = []
    private var running = 0
    private var closing = false
    private var lastHeard = ContinuousClock.now
    private var window: Duration?
    private var interval = Duration.seconds(1)

    init(input: Int32, output: Int32, runners: [[UInt8]: TaskRunner]) {
        self.input = input
        self.out = FrameOutput(fd: output)
        self.runners = runners
    }

    func run() -> Int32 {
        let frames = FrameInput(fd: input)
        var sawEnd = false
        var status: Int32 = 1
        do throws(ProtocolError) {
            guard case .setup(let version, let interval, let window, let slots, let initializer)? = try frames.next() else {
                throw ProtocolError("the stream does not start with SETUP")
            }
            out.send(.hello(version: workerProtocolVersion, pid: getpid(),
                            slots: slots > 0 ? slots : UInt32(processorCount), host: hostName()))
            guard version == workerProtocolVersion else {
                throw ProtocolError("pfutures speaks protocol version \(version), this worker \(workerProtocolVersion)")
            }
            lock.withLock { self.interval = interval }
            // A window means a remote parent, maybe behind a relay with
            // Nagle's algorithm: let small frames travel together.
            if window != nil { out.lingerFrames(for: .milliseconds(20)) }
            // Heartbeats go out during the initializer, but input is not read
            // then, so silence counts only from its end.
            // Without a thread (here or for a slot below) the worker ends at
            // once; pfutures gives its tasks to the workers it has.
            do { try WorkerThread.detach(name: "heartbeat") { [self] in beat() } } catch {
                return WorkerServer.noThreadStatus
            }
            if let initializer, !initialize(initializer) { return 1 }
            lock.withLock {
                self.window = window
                lastHeard = .now
            }
            while let frame = try frames.next() {
                lock.withLock { lastHeard = .now }
                switch frame {
                case .jobs(let tasks):
                    if enqueue(tasks) != nil {
                        // No thread for a slot: running tasks finish; those not
                        // started go back unanswered, for pfutures to hand on.
                        lock.withLock { for slot in lanes.keys { lanes[slot]!.tasks = [] } }
                        finishLanes()
                        return WorkerServer.noThreadStatus
                    }
                case .heartbeat: break
                case .resume(let slot):
                    lock.withLock {
                        lanes[slot]?.held = false
                        lanes[slot]?.waker.signal()
                    }
                case .recall(let id): recall(id)
                case .stop:
                    stop.fire()
                    cancelQueued()
                case .end: sawEnd = true
                case .drain: cancelQueued()
                default: throw ProtocolError("unexpected \(frame.name) frame from pfutures")
                }
            }
            status = sawEnd ? 0 : 1
        } catch {
            reportError("worker: protocol error: \(error.description)")
            status = 2
        }
        // End of input without END means pfutures died: stop, so no task lives on.
        if !sawEnd || status != 0 {
            stop.fire()
            cancelQueued()
        }
        finishLanes()
        if status == 0 { out.finish(with: .goodbye) }
        return status
    }

    private func initialize(_ task: WireTask) -> Bool {
        let context = WorkerContext(id: 0, slot: 0, server: self)
        do {
            guard let runner = runners[task.name] else { throw ProtocolError("no task named \(text(task.name))") }
            _ = try runner.run(task.payload, context)
            return true
        } catch {
            out.send(.initFailed("\(error)"))
            return false
        }
    }

    /// Queues tasks on their slots' lanes, starting a lane's thread on its
    /// first task; returns why when a thread cannot be had.
    private func enqueue(_ tasks: [WireTask]) -> ThreadStartError? {
        lock.withLock {
            for task in tasks {
                if lanes[task.slot] == nil {
                    let slot = task.slot
                    lanes[slot] = Lane(waker: lock.makeCondition())
                    do throws(ThreadStartError) {
                        laneThreads.append(try WorkerThread.start(name: "slot_\(slot)") { [self] in serveLane(slot) })
                    } catch {
                        return error
                    }
                }
                lanes[task.slot]!.tasks.append(task)
                lanes[task.slot]!.waker.signal()
            }
            return nil
        }
    }

    /// One slot's loop: its tasks in order, one at a time.
    private func serveLane(_ slot: UInt32) {
        lock.lock()
        let waker = lanes[slot]!.waker
        while true {
            if let task = lanes[slot]!.tasks.first, !lanes[slot]!.held || closing {
                lanes[slot]!.tasks.removeFirst()
                running += 1
                lock.unlock()
                perform(task, slot: slot)
                lock.lock()
                running -= 1
                lock.broadcast()
            } else if closing {
                lock.unlock()
                return
            } else {
                waker.wait()
            }
        }
    }

    private func perform(_ task: WireTask, slot: UInt32) {
        let context = WorkerContext(id: task.id, slot: Int(task.slot), server: self)
        var status = ResultStatus.threw, asks = true, bytes: [UInt8]
        if let runner = runners[task.name] {
            if !runner.reportsOwnStart { context.started(pid: nil) }
            do {
                (bytes, asks) = try runner.run(task.payload, context)
                status = .returned
            } catch {
                bytes = Array("\(error)".utf8)
            }
        } else {
            bytes = Array("no task named \(text(task.name)) is served by this worker".utf8)
        }
        // Held before the RESULT goes, so that its RESUME cannot come first.
        if asks { lock.withLock { lanes[slot]!.held = true } }
        out.send(.result(id: task.id, status: status, held: asks, bytes: bytes))
    }

    /// Takes task `id` back if it waits in a lane (RECALL); one started runs on.
    private func recall(_ id: UInt64) {
        let found: Bool = lock.withLock {
            for slot in lanes.keys {
                if let index = lanes[slot]!.tasks.firstIndex(where: { $0.id == id }) {
                    lanes[slot]!.tasks.remove(at: index)
                    return true
                }
            }
            return false
        }
        if found { out.send(.result(id: id, status: .recalled, bytes: [])) }
    }

    /// Answers every queued task as cancelled (STOP, or the end).
    private func cancelQueued() {
        let dropped: [WireTask] = lock.withLock {
            let all = lanes.values.flatMap(\.tasks)
            for slot in lanes.keys { lanes[slot]!.tasks = [] }
            return all
        }
        for task in dropped { out.send(.result(id: task.id, status: .cancelled, bytes: [])) }
    }

    /// Lets the lanes finish what they hold, then joins them.
    private func finishLanes() {
        let threads: [WorkerThread] = lock.withLock {
            closing = true
            for lane in lanes.values { lane.waker.signal() }
            return laneThreads
        }
        for thread in threads { thread.join() }
    }

    /// Heartbeats out; when pfutures has been silent for the window, stop
    /// the tasks and exit (the main thread is blocked reading).
    private func beat() {
        while true {
            let (silent, period): (Duration?, Duration) = lock.withLock {
                let quiet = ContinuousClock.now - lastHeard
                return (window.flatMap { quiet > $0 ? quiet : nil }, interval)
            }
            if let silent {
                reportError("worker: no word from pfutures for \(Int(silent.inSeconds)) s; stopping its tasks")
                stop.fire()
                cancelQueued()
                lock.withLock { while running > 0 { lock.wait() } }
                exit(1)
            }
            guard out.send(.heartbeat) else { return }  // the reader is gone; the main loop sees the end
            let until = Deadline.after(period)
            pause.withLock { while pause.wait(until: until) {} }
        }
    }

    func send(_ frame: Frame) { out.send(frame) }
    var stopSwitch: StopSwitch { stop }
}

/// A task's view of the worker it runs in.
private final class WorkerContext: TaskContext {
    let id: UInt64
    let slot: Int
    private unowned let server: Server
    private var announced = false

    init(id: UInt64, slot: Int, server: Server) {
        self.id = id
        self.slot = slot
        self.server = server
    }

    var stopSwitch: StopSwitch { server.stopSwitch }
    var sharesSubmittersOutput: Bool { false }

    func started(pid: Int32?) {
        guard !announced, id != 0 else { return }
        announced = true
        server.send(.started(id: id, pid: pid ?? 0))
    }

    func output(_ bytes: UnsafeRawBufferPointer, stream: TaskStream) {
        guard id != 0 else { return }
        server.send(.output(id: id, stream: stream, bytes: Array(bytes)))
    }
}

extension Frame {
    /// The frame's name, for messages.
    var name: String {
        switch self {
        case .hello: "HELLO"
        case .setup: "SETUP"
        case .heartbeat: "HEARTBEAT"
        case .jobs: "JOBS"
        case .stop: "STOP"
        case .end: "END"
        case .drain: "DRAIN"
        case .resume: "RESUME"
        case .recall: "RECALL"
        case .started: "STARTED"
        case .output: "OUTPUT"
        case .result: "RESULT"
        case .initFailed: "INIT_FAILED"
        case .goodbye: "GOODBYE"
        }
    }
}

/// This machine's name, for HELLO.
package func hostName() -> [UInt8] {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, 255) == 0 else { return [] }
    return Array(buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) })
}

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
