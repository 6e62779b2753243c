// The shared state of one run: why it is stopping (signal, deadline, halt,
// closed stdout), what the jobs' outcomes add up to, and the switches that
// stop reading, starting and running.
import Jobs
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Run-wide stop state and outcome tally, safe from any thread.
final class RunControl: Sendable {
    private struct State {
        var stopSignal: Int32?        // a stopping signal pfutures received
        var signalCount = 0
        var deadlinePassed = false
        var stdoutClosed = false
        var failures = 0
        var statuses: Set<Int32> = []
    }

    private let state = Mutex(State())
    /// Fired when no further job may start; also wakes the input reader.
    let noMoreStarts = StopSwitch()
    /// Fired when running jobs must be stopped with the kill sequence.
    let stopRunning = StopSwitch()
    let gate: SlotGate
    let running = RunningJobs()
    private let halt: HaltPolicy?

    init(workerCap: Int, halt: HaltPolicy?) {
        gate = SlotGate(limit: workerCap)
        self.halt = halt
    }

    /// True once nothing new may start.
    var isStopping: Bool { noMoreStarts.isFired }

    private func stopStarting() {
        noMoreStarts.fire()
        gate.close()
    }

    /// SIGINT/SIGTERM/SIGHUP: stop starting, forward to running jobs; a
    /// second signal kills them at once.
    func received(signal: Int32) {
        let count = state.withLock { state in
            if state.stopSignal == nil { state.stopSignal = signal }
            state.signalCount += 1
            return state.signalCount
        }
        stopStarting()
        running.forward(count == 1 ? signal : SIGKILL)
    }

    func deadlinePassed() {
        state.withLock { $0.deadlinePassed = true }
        stopStarting()
        stopRunning.fire()
    }

    /// The first EPIPE on stdout: the reader is gone, so stop quietly.
    func stdoutClosed() {
        state.withLock { $0.stdoutClosed = true }
        stopStarting()
        stopRunning.fire()
    }

    func adjustCap(by delta: Int) { gate.adjust(by: delta) }

    /// Adds a finished job's outcome; applies `--halt` and the xargs rule
    /// that an exit status of 255 starts no further job.
    func record(_ outcome: JobOutcome) {
        let status = ExitStatus.of(outcome)
        let (haltNow, haltSoon): (Bool, Bool) = state.withLock { state in
            state.statuses.insert(status)
            guard !outcome.succeeded else { return (false, false) }
            state.failures += 1
            guard let halt, state.failures >= halt.failures else { return (false, status == ExitStatus.job255) }
            return (halt.when == .now, true)
        }
        if haltSoon || haltNow { stopStarting() }
        if haltNow { stopRunning.fire() }
    }

    /// The executor cannot run jobs (a failed --initializer): says why once,
    /// starts nothing more, and makes the run exit 1.
    func poolFailed(_ error: any Error) {
        let first = state.withLock { state in
            defer { state.statuses.insert(ExitStatus.usage) }
            return !state.statuses.contains(ExitStatus.usage)
        }
        if first { reportError("\(error)") }
        stopStarting()
    }

    /// Notes a failure of pfutures itself (exit 1), e.g. unreadable input.
    func recordOwnFailure() { _ = state.withLock { $0.statuses.insert(ExitStatus.usage) } }

    /// The run's exit status by `ExitStatus.precedence`.
    var exitStatus: Int32 {
        state.withLock { state in
            if let signal = state.stopSignal { return 128 + signal }
            if state.stdoutClosed { return 128 + SIGPIPE }
            if state.deadlinePassed { return ExitStatus.deadline }
            return ExitStatus.combine(state.statuses)
        }
    }
}
