// The shared state of one run: why it is stopping (signal, deadline, halt,
// closed stdout), how many jobs were read, run and how they ended, and the
// switches that stop reading, starting and running.
import Jobs
import ProcessPool
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Counts of a run so far, for --progress and the closing summary.
struct RunCounts {
    var read = 0
    var running = 0
    var succeeded = 0
    var failed = 0
    var timedOut = 0
    var killed = 0
    var couldNotStart = 0
    var cancelled = 0
    var notRun = 0
    var bytesCopied = 0
    var lost = 0
    var inputEnded = false
    var finished: Int { succeeded + failed + timedOut + killed + couldNotStart + lost }
    var unsuccessful: Int { failed + timedOut + killed + couldNotStart + lost + cancelled + notRun }
}

/// Run-wide stop state and outcome tally, safe from any thread.
final class RunControl: Sendable {
    private struct State {
        var stopSignal: Int32?        // a stopping signal pfutures received
        var signalCount = 0
        var deadlinePassed = false
        var stdoutClosed = false
        var failures = 0
        var statuses: Set<Int32> = []
        var counts = RunCounts()
        var firstFailures: [[UInt8]] = []
        var programMissing = false
        var warnedShortage = false
        var waitingForResources = 0  // jobs told to try again after a shortage, not yet trying
        var warnedResults = false
        var halted = false
        var runtimes = RunningMedian()  // finished jobs', for --timeout P%
        var haltedOnSuccess = false
    }

    private let state = Mutex(State())
    /// Fired when no further job may start; also wakes the input reader.
    let noMoreStarts = StopSwitch()
    /// Fired when running jobs must be stopped with the kill sequence.
    let stopRunning = StopSwitch()
    /// Jobs handed to the executor and not yet accounted for: those running
    /// plus a few queued behind them, so a worker that finishes a job starts
    /// the next at once. The executor's own cap decides what runs.
    let admission: SlotGate
    let running = RunningJobs(guardian: OrphanGuard.forThisProgram())
    private let halt: HaltPolicy?
    private let stopsTasksOnSignal: Bool
    private let executor = Mutex<(any TaskExecutor)?>(nil)

    /// - Parameters:
    ///   - workerCap: the executor's cap; `lookahead` more jobs may wait in it.
    ///   - stopsTasksOnSignal: a stopping signal also stops running tasks
    ///     (copies, and jobs on other hosts, have no process group here to
    ///     forward it to).
    init(workerCap: Int, lookahead: Int, halt: HaltPolicy?, stopsTasksOnSignal: Bool) {
        admission = SlotGate(limit: workerCap > Int.max - lookahead ? Int.max : workerCap + lookahead)
        self.halt = halt
        self.stopsTasksOnSignal = stopsTasksOnSignal
    }

    /// The executor the run's jobs go to: stopping reaches it from here.
    func attach(_ executor: any TaskExecutor) { self.executor.withLock { $0 = executor } }

    private var attached: (any TaskExecutor)? { executor.withLock { $0 } }

    /// True once nothing new may start.
    var isStopping: Bool { noMoreStarts.isFired }

    /// Starts nothing new: queued jobs are cancelled (in worker processes too).
    private func stopStarting() {
        noMoreStarts.fire()
        admission.close()
        attached?.shutdown(wait: false, cancelFutures: true)
    }

    /// Stops the running jobs with their kill sequence.
    private func stopRunningJobs() {
        stopRunning.fire()
        attached?.stopRunningTasks()
    }

    /// Waits `duration` unless the run starts stopping; true if it waited it out.
    func pause(for duration: Duration) -> Bool {
        guard duration > .zero else { return !isStopping }
        let (seconds, attoseconds) = duration.components
        var pfd = pollfd(fd: noMoreStarts.fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(min(Int64(Int32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        while poll(&pfd, 1, ms) < 0 && errno == EINTR {}
        return pfd.revents == 0
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
        if stopsTasksOnSignal { stopRunningJobs() }
    }

    func deadlinePassed() {
        state.withLock { $0.deadlinePassed = true }
        stopStarting()
        stopRunningJobs()
    }

    /// The first EPIPE on stdout: the reader is gone, so stop quietly.
    func stdoutClosed() {
        state.withLock { $0.stdoutClosed = true }
        stopStarting()
        stopRunningJobs()
    }

    /// The program every job runs is not there (xargs: stop at once, 127):
    /// starts nothing more. True the first time only, so it is said once.
    func programMissing() -> Bool {
        let first = state.withLock { state in
            defer { state.programMissing = true }
            return !state.programMissing
        }
        if first { stopStarting() }
        return first
    }

    /// `--results` could not be written (a full disk fails every job alike):
    /// said the first time, and the run exits 1.
    func resultsFailed(_ message: String) {
        let first = state.withLock { state in
            defer { state.warnedResults = true }
            state.statuses.insert(ExitStatus.usage)
            return !state.warnedResults
        }
        if first { reportError(message) }
    }

    /// A finished job's runtime, for `--timeout P%`.
    func recordRuntime(_ seconds: Double) {
        state.withLock { $0.runtimes.insert(seconds) }
    }

    /// The median runtime of the jobs finished so far, once three have.
    var medianRuntime: Double? {
        state.withLock { $0.runtimes.count >= 3 ? $0.runtimes.median : nil }
    }

    /// Standard output cannot be written (a full disk, an I/O error): said
    /// once; nothing more starts, running jobs stop, and the run exits 1.
    func stdoutFailed(_ reason: String) {
        reportError("cannot write standard output: \(reason)")
        recordOwnFailure()
        stopStarting()
        stopRunningJobs()
    }

    /// A job could not start for want of descriptors or processes: one job
    /// fewer at once from now on (said the first time), as GNU parallel
    /// does; false when already at one, so the job fails instead.
    func shortOfResources(_ reason: String, tries: Int) -> Bool {
        guard let executor = attached else { return false }
        // At one job at a time the cap cannot come down further; but jobs
        // started under a higher cap may still run, and what they hold comes
        // back when they end: try again while one runs (not merely waits to
        // try again, as this one will), or for two seconds (threads above
        // the cap end as they fall idle), else fail.
        if executor.maxWorkers <= 1 {
            return state.withLock { state in
                // Another job holds some here (a thread-pool job, even one
                // mid-launch), or runs elsewhere (a worker's) and is not merely waiting.
                let othersHold = JobProcess.holding.load(ordering: .relaxed) > 0
                guard othersHold || state.counts.running - state.waitingForResources > 1 || tries < 20 else { return false }
                state.waitingForResources += 1
                return true
            }
        }
        state.withLock { $0.waitingForResources += 1 }
        adjustCap(by: -1)
        let first = state.withLock { state in
            defer { state.warnedShortage = true }
            return !state.warnedShortage
        }
        if first { reportError("out of resources (\(reason)): running fewer jobs at once") }
        return true
    }

    /// A job told to try again by `shortOfResources` does so now.
    func triesAgainAfterShortage() { state.withLock { $0.waitingForResources -= 1 } }

    /// SIGUSR1/SIGUSR2: the executor's cap moves, and the look-ahead with it.
    func adjustCap(by delta: Int) {
        attached?.adjustMaxWorkers(by: delta)
        admission.adjust(by: delta)
    }

    func jobRead() { state.withLock { $0.counts.read += 1 } }
    func jobStarted() { state.withLock { $0.counts.running += 1 } }
    func inputEnded() { state.withLock { $0.counts.inputEnded = true } }
    func cancelled() { state.withLock { $0.counts.cancelled += 1 } }
    func notRun() { state.withLock { $0.counts.notRun += 1 } }
    func copied(bytes: Int) { state.withLock { $0.counts.bytesCopied += bytes } }
    var counts: RunCounts { state.withLock { $0.counts } }

    /// Adds a finished job's outcome; applies `--halt` and the xargs rule
    /// that an exit status of 255 starts no further job.
    func finished(_ outcome: JobOutcome, command: [UInt8]) {
        let status = ExitStatus.of(outcome)
        let (haltNow, haltSoon): (Bool, Bool) = state.withLock { state in
            state.statuses.insert(status)
            state.counts.running -= 1
            switch outcome {
            case .exited(0): state.counts.succeeded += 1
            case .exited: state.counts.failed += 1
            case .timedOut: state.counts.timedOut += 1
            case .signaled: state.counts.killed += 1
            case .spawnFailed: state.counts.couldNotStart += 1
            case .lost: state.counts.lost += 1
            }
            if !outcome.succeeded {
                if state.firstFailures.count < 3 { state.firstFailures.append(command) }
                state.failures += 1
            }
            let job255 = status == ExitStatus.job255
            guard let halt, !state.halted else { return (false, job255) }
            let matching: Int
            switch halt.counting {
            case .fail: matching = outcome.succeeded ? -1 : state.failures
            case .success: matching = outcome.succeeded ? state.counts.succeeded : -1
            case .done: matching = state.counts.finished
            }
            guard matching >= 0, halt.isMet(matching: matching, read: state.counts.read) else { return (false, job255) }
            state.halted = true
            // GNU parallel: a run ended by success= exits 0.
            if halt.counting == .success { state.haltedOnSuccess = true }
            return (halt.when == .now, true)
        }
        if haltSoon || haltNow { stopStarting() }
        if haltNow { stopRunningJobs() }
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

    /// One line counting what did not succeed, then the first failing
    /// commands; nothing when every job succeeded or stdout went away.
    func summaryLines() -> [[UInt8]] {
        state.withLock { state in
            let c = state.counts
            guard c.unsuccessful > 0, !state.stdoutClosed else { return [] }
            let kinds = [("failed", c.failed), ("timed out", c.timedOut), ("killed", c.killed),
                         ("could not start", c.couldNotStart), ("lost with their worker", c.lost),
                         ("cancelled", c.cancelled), ("not run", c.notRun)]
            let parts = kinds.filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }
            let total = c.finished + c.cancelled + c.notRun
            var lines = [Array("\(c.unsuccessful) of \(total) jobs did not succeed: \(parts.joined(separator: ", "))".utf8)]
            for command in state.firstFailures { lines.append(Array("failed: ".utf8) + JobRunner.brief(command)) }
            return lines
        }
    }

    /// The run's exit status by `ExitStatus.precedence`.
    var exitStatus: Int32 {
        state.withLock { state in
            if let signal = state.stopSignal { return 128 + signal }
            if state.stdoutClosed { return 128 + SIGPIPE }
            if state.deadlinePassed { return ExitStatus.deadline }
            if state.haltedOnSuccess { return ExitStatus.success }
            return ExitStatus.combine(state.statuses)
        }
    }
}
