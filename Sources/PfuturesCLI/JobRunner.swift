// One job from records to recorded outcome: build the invocation, start it
// (again, when --retries allows), capture its output, and tell the job log,
// the event stream, the sink and the run's tally how it ended.
import Jobs
#if canImport(Glibc)
import Glibc
#endif

/// Runs jobs for `pfutures run`; shared by all worker threads.
struct JobRunner: Sendable {
    let config: RunConfiguration
    let launcher: JobLauncher
    let sink: OutputSink
    let control: RunControl
    let jobLog: JobLogWriter?
    let events: EventLog?

    func run(sequence: Int, slot: Int, records: [[UInt8]]) {
        control.jobStarted()
        let invocation = config.template.invocation(records: records, sequence: sequence, slot: slot)
        let command = invocation.displayText
        if config.verbose { sink.writeStderr(command + [0x0A]) }
        if config.dryRun {  // through the sink, so -k orders it like output
            let output = JobOutput()
            output.stdout.append(command + [0x0A])
            sink.complete(sequence: sequence, output: output)
            control.finished(.exited(0), command: command)
            return
        }
        let tag = config.tag ? Array(records.joined(separator: [0x20])) : nil
        var attempt = 1
        while true {
            let (outcome, output, started, runtime, received) = runAttempt(invocation, sequence: sequence, slot: slot,
                                                                           tag: tag, attempt: attempt)
            if config.retry.shouldRetry(outcome, attempt: attempt) && !control.isStopping {
                events?.emit("retry", ["seq": .int(sequence), "slot": .int(slot), "attempt": .int(attempt + 1),
                                       "command": .bytes(command)])
                // A retried attempt's output is dropped; only the last one is shown.
                if control.pause(for: config.retry.wait(after: attempt)) {
                    attempt += 1
                    continue
                }
            }
            sink.complete(sequence: sequence, output: output)
            let (exitValue, signal) = JobLogEntry.columns(for: outcome)
            jobLog?.append(JobLogEntry(sequence: sequence, startTime: started, runtime: runtime, received: received,
                                       exitValue: exitValue, signal: signal, command: command))
            if outcome == .timedOut { reportError(Array("job \(sequence) timed out and was stopped: ".utf8) + command) }
            control.finished(outcome, command: command)
            return
        }
    }

    /// One attempt: spawn, watch, and report start and finish events.
    private func runAttempt(_ invocation: Invocation, sequence: Int, slot: Int, tag: [UInt8]?, attempt: Int)
        -> (JobOutcome, JobOutput?, Double, Double, Int) {
        var grouped: GroupedReceiver?
        var lines: LineReceiver?
        let receiver: OutputReceiver?
        switch config.outputMode {
        case .group: grouped = GroupedReceiver(tag: tag); receiver = grouped
        case .lineBuffer: lines = LineReceiver(sink: sink, tag: tag); receiver = lines
        case .ungroup: receiver = nil
        }
        let startedAt = wallClockNow()
        let clock = ContinuousClock.now
        let outcome: JobOutcome
        var pid: Int32?
        switch launcher.launch(invocation, sequence: sequence, slot: slot, capture: receiver != nil) {
        case .failure(let failure):
            outcome = .spawnFailed(failure)
            emitStart(invocation, sequence: sequence, slot: slot, pid: nil, attempt: attempt)
            report(failure, invocation: invocation)
        case .success(let process):
            pid = process.pid
            emitStart(invocation, sequence: sequence, slot: slot, pid: process.pid, attempt: attempt)
            control.running.register(process.pid)
            outcome = process.wait(receiver: receiver, timeout: config.timeout,
                                   killSequence: KillSequence(grace: config.killAfter),
                                   stopSwitch: control.stopRunning)
            control.running.unregister(process.pid)
        }
        lines?.finish()
        let elapsed = ContinuousClock.now - clock
        let runtime = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if let events {
            let (kind, code, signal) = Self.describe(outcome)
            events.emit("finish", ["seq": .int(sequence), "slot": .int(slot), "pid": pid.map { .int(Int($0)) } ?? .null,
                                   "attempt": .int(attempt), "outcome": .text(kind),
                                   "exit": code.map { .int(Int($0)) } ?? .null,
                                   "signal": signal.map { .int(Int($0)) } ?? .null,
                                   "duration": .double(runtime), "command": .bytes(invocation.displayText)])
        }
        let received = (grouped?.output.stdout.count ?? 0) + (grouped?.output.stderr.count ?? 0)
        return (outcome, grouped?.output, startedAt, runtime, received)
    }

    private func emitStart(_ invocation: Invocation, sequence: Int, slot: Int, pid: Int32?, attempt: Int) {
        guard let events else { return }
        switch invocation {
        case .exec(let argv):
            events.emit("start", ["seq": .int(sequence), "slot": .int(slot), "pid": pid.map { .int(Int($0)) } ?? .null,
                                  "attempt": .int(attempt), "argv": .list(argv)])
        case .shell(let script):
            events.emit("start", ["seq": .int(sequence), "slot": .int(slot), "pid": pid.map { .int(Int($0)) } ?? .null,
                                  "attempt": .int(attempt), "command": .bytes(script)])
        }
    }

    /// The events' outcome name, exit code and signal for `outcome`.
    static func describe(_ outcome: JobOutcome) -> (String, Int32?, Int32?) {
        switch outcome {
        case .exited(0): return ("ok", 0, nil)
        case .exited(let code): return ("failed", code, nil)
        case .signaled(let signal): return ("signal", nil, signal)
        case .timedOut: return ("timeout", nil, SIGTERM)
        case .spawnFailed(.notFound): return ("spawn-error", 127, nil)
        case .spawnFailed(.cannotRun): return ("spawn-error", 126, nil)
        }
    }

    /// Accounts for a job the executor refused or failed without running.
    func notRun(sequence: Int, slot: Int, records: [[UInt8]], because error: any Error) {
        control.poolFailed(error)
        let command = config.template.invocation(records: records, sequence: sequence, slot: slot).displayText
        reportError(Array("job \(sequence) not run: ".utf8) + command)
        events?.emit("not-run", ["seq": .int(sequence), "reason": .text("\(error)"), "command": .bytes(command)])
        sink.complete(sequence: sequence, output: nil)
        control.notRun()
    }

    /// Accounts for a job read but never started because the run is stopping.
    func cancelled(sequence: Int, records: [[UInt8]]) {
        let command = config.template.invocation(records: records, sequence: sequence, slot: 0).displayText
        events?.emit("cancel", ["seq": .int(sequence), "command": .bytes(command)])
        sink.complete(sequence: sequence, output: nil)
        control.cancelled()
    }

    /// Accounts for a job that --resume skips.
    func skipped(sequence: Int, command: [UInt8]) {
        events?.emit("not-run", ["seq": .int(sequence), "reason": .text("resume"), "command": .bytes(command)])
        sink.complete(sequence: sequence, output: nil)
    }

    private func report(_ failure: SpawnFailure, invocation: Invocation) {
        let program: [UInt8]
        switch invocation {
        case .exec(let argv): program = argv.first ?? []
        case .shell: program = config.shell
        }
        switch failure {
        case .notFound: reportError(program + Array(": command not found".utf8))
        case .cannotRun(let why): reportError(program + Array(": cannot run: \(why)".utf8))
        }
    }
}
