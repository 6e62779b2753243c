// One job from records to recorded outcome: work out what it does (a
// process, or a copy pair), run it (again, when --retries allows), capture
// its output, and tell the job log, the event stream, the sink and the
// run's tally how it ended.
import FuturesCore
import Jobs
#if canImport(Glibc)
import Glibc
#endif

/// What one job does.
enum JobWork {
    /// Start a process.
    case process(Invocation)
    /// Copy a file inside pfutures.
    case copy(source: [UInt8], destination: [UInt8])
    /// The records cannot become a job; the text says why.
    case invalid(command: [UInt8], reason: String)

    /// How the job is shown: `-t`, `--dry-run`, the job log's Command.
    var command: [UInt8] {
        switch self {
        case .process(let invocation): invocation.displayText
        case .copy(let source, let destination): Invocation.exec(argv: [Array("copy".utf8), source, destination]).displayText
        case .invalid(let command, _): command
        }
    }
}

/// Runs jobs for `pfutures run` and `pfutures copy`; shared by all workers.
struct JobRunner: Sendable {
    let config: RunConfiguration
    let launcher: JobLauncher
    let copier: FileCopier?
    let workerPool: WorkerPool?
    let sink: OutputSink
    let control: RunControl
    let jobLog: JobLogWriter?
    let events: EventLog?

    /// What job `sequence` of `records` does.
    func work(sequence: Int, slot: Int, records: [[UInt8]]) -> JobWork {
        guard copier != nil else {
            return .process(config.template.invocation(records: records, sequence: sequence, slot: slot))
        }
        if records.count == 2 { return .copy(source: records[0], destination: records[1]) }
        let line = records.first ?? []
        guard records.count == 1, let tab = line.firstIndex(of: 0x09) else {
            return .invalid(command: Array(records.joined(separator: [0x20])),
                            reason: "record \(sequence) is not SRC<TAB>DST (or SRC NUL DST NUL with -0)")
        }
        return .copy(source: Array(line[..<tab]), destination: Array(line[(tab + 1)...]))
    }

    func run(sequence: Int, slot: Int, records: [[UInt8]]) {
        control.jobStarted()
        let work = work(sequence: sequence, slot: slot, records: records)
        let command = work.command
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
            let attemptResult = workerPool == nil
                ? runAttempt(work, sequence: sequence, slot: slot, tag: tag, attempt: attempt)
                : runRemoteAttempt(work, records: records, sequence: sequence, tag: tag, attempt: attempt)
            guard let result = attemptResult else { return }  // never ran; already accounted for
            if config.retry.shouldRetry(result.outcome, attempt: attempt) && !control.isStopping {
                events?.emit("retry", ["seq": .int(sequence), "slot": .int(slot), "attempt": .int(attempt + 1),
                                       "command": .bytes(command)])
                // A retried attempt's output is dropped; only the last one is shown.
                if control.pause(for: config.retry.wait(after: attempt)) {
                    attempt += 1
                    continue
                }
            }
            sink.complete(sequence: sequence, output: result.output)
            let (exitValue, signal) = JobLogEntry.columns(for: result.outcome)
            jobLog?.append(JobLogEntry(sequence: sequence, startTime: result.startedAt, runtime: result.runtime,
                                       received: result.received, exitValue: exitValue, signal: signal, command: command))
            if result.outcome == .timedOut { reportError(Array("job \(sequence) timed out and was stopped: ".utf8) + command) }
            control.finished(result.outcome, command: command)
            return
        }
    }

    /// One attempt on a worker process (--pool process); nil when the pool
    /// did not run it (stopping, or broken), which is accounted for here.
    private func runRemoteAttempt(_ work: JobWork, records: [[UInt8]], sequence: Int, tag: [UInt8]?,
                                  attempt: Int) -> AttemptResult? {
        if case .invalid = work {  // nothing to send: fail it here, as the thread pool does
            return runAttempt(work, sequence: sequence, slot: 0, tag: tag, attempt: attempt)
        }
        let (receiver, grouped, lines) = receivers(tag: tag, remote: true)
        let observer = RemoteJob(receiver: receiver, running: control.running) { pid, slot, invocation in
            emitStart(invocation, sequence: sequence, slot: Int(slot), pid: pid, attempt: attempt)
        }
        if case .copy(let source, let destination) = work {
            emitStart(sequence: sequence, slot: 0, pid: nil, attempt: attempt, argv: [Array("copy".utf8), source, destination])
        }
        let template = config.template, timeout = config.timeout, killAfter = config.killAfter
        let result = workerPool!.execute(sequence: sequence, observer: observer) { slot in
            var job = WireJob(sequence: UInt64(sequence), slot: slot, kind: .exec, timeout: timeout,
                              killAfter: killAfter, capture: true, strings: [])
            switch work {
            case .copy(let source, let destination):
                job.kind = .copy
                job.strings = [source, destination]
            case .process, .invalid:  // .invalid never gets here
                let invocation = template.invocation(records: records, sequence: sequence, slot: Int(slot))
                switch invocation {
                case .exec(let argv): job.strings = argv
                case .shell(let script): job.kind = .shell; job.strings = [script]
                }
                observer.prepare(slot: slot, invocation: invocation)
            }
            return job
        }
        lines?.finish()
        let outcome: JobOutcome, startedAt: Double, runtime: Double
        var bytes = 0
        switch result {
        case .notRun(let reason):
            if control.isStopping && !control.isBroken {
                cancelled(sequence: sequence, records: records)
            } else {
                notRun(sequence: sequence, slot: 0, records: records, because: BrokenWorkerPool(reason: reason))
            }
            return nil
        case .copyFailed(let why, let started, let took):
            if case .copy(let source, let destination) = work { reportCopyFailure(source, destination, why) }
            (outcome, startedAt, runtime) = (.exited(1), started, took)
        case .finished(let o, let copied, let started, let took):
            (outcome, startedAt, runtime, bytes) = (o, started, took, copied)
            if case .spawnFailed(let failure) = o, let invocation = observer.invocation {
                report(failure, invocation: invocation)
            }
            if case .lost(let why) = o {
                reportError(Array("job \(sequence) lost: \(why) (BrokenProcessPool): ".utf8) + work.command)
            }
            if copier != nil && bytes > 0 { control.copied(bytes: bytes) }
        }
        emitFinish(outcome, sequence: sequence, slot: Int(observer.slot), pid: observer.pid, attempt: attempt,
                   runtime: runtime, command: work.command)
        let received = copier != nil ? bytes : (grouped?.output.stdout.count ?? 0) + (grouped?.output.stderr.count ?? 0)
        return AttemptResult(outcome: outcome, output: grouped?.output, startedAt: startedAt, runtime: runtime,
                             received: received)
    }

    private struct AttemptResult {
        var outcome: JobOutcome
        var output: JobOutput?
        var startedAt: Double
        var runtime: Double
        var received: Int
    }

    /// One attempt, with its start and finish events.
    private func runAttempt(_ work: JobWork, sequence: Int, slot: Int, tag: [UInt8]?, attempt: Int) -> AttemptResult? {
        let startedAt = wallClockNow()
        let clock = ContinuousClock.now
        var pid: Int32?
        var output: JobOutput?
        var received = 0
        let outcome: JobOutcome
        switch work {
        case .process(let invocation):
            (outcome, pid, output) = runProcess(invocation, sequence: sequence, slot: slot, tag: tag, attempt: attempt)
            received = (output?.stdout.count ?? 0) + (output?.stderr.count ?? 0)
        case .copy(let source, let destination):
            emitStart(sequence: sequence, slot: slot, pid: nil, attempt: attempt,
                      argv: [Array("copy".utf8), source, destination])
            (outcome, received) = runCopy(source, destination)
        case .invalid(let command, let reason):
            emitStart(sequence: sequence, slot: slot, pid: nil, attempt: attempt, command: command)
            reportError(reason)
            outcome = .spawnFailed(.cannotRun(reason))
        }
        let elapsed = ContinuousClock.now - clock
        let runtime = elapsed.inSeconds
        emitFinish(outcome, sequence: sequence, slot: slot, pid: pid, attempt: attempt, runtime: runtime,
                   command: work.command)
        return AttemptResult(outcome: outcome, output: output, startedAt: startedAt, runtime: runtime, received: received)
    }

    /// Where a job's output goes for the output mode: the receiver to feed,
    /// and the grouped or line receiver behind it. Ungrouped local jobs write
    /// to pfutures' descriptors themselves (no receiver); a worker's jobs
    /// cannot, so their output is passed on as it comes.
    private func receivers(tag: [UInt8]?, remote: Bool) -> (OutputReceiver?, GroupedReceiver?, LineReceiver?) {
        switch config.outputMode {
        case .group:
            let grouped = GroupedReceiver(tag: tag)
            return (grouped, grouped, nil)
        case .lineBuffer:
            let lines = LineReceiver(sink: sink, tag: tag)
            return (lines, nil, lines)
        case .ungroup:
            return (remote ? DirectReceiver(sink: sink) : nil, nil, nil)
        }
    }

    /// The `finish` event of one attempt.
    private func emitFinish(_ outcome: JobOutcome, sequence: Int, slot: Int, pid: Int32?, attempt: Int,
                            runtime: Double, command: [UInt8]) {
        guard let events else { return }
        let (kind, code, signal) = Self.describe(outcome)
        events.emit("finish", ["seq": .int(sequence), "slot": .int(slot), "pid": pid.map { .int(Int($0)) } ?? .null,
                               "attempt": .int(attempt), "outcome": .text(kind),
                               "exit": code.map { .int(Int($0)) } ?? .null,
                               "signal": signal.map { .int(Int($0)) } ?? .null,
                               "duration": .double(runtime), "command": .bytes(command)])
    }

    private func runProcess(_ invocation: Invocation, sequence: Int, slot: Int, tag: [UInt8]?, attempt: Int)
        -> (JobOutcome, Int32?, JobOutput?) {
        let (receiver, grouped, lines) = receivers(tag: tag, remote: false)
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
        return (outcome, pid, grouped?.output)
    }

    /// A copy pair: a failure is reported and counts as a job that exited 1;
    /// a copy stopped by --timeout counts as timed out, one stopped by the
    /// run (signal, --halt now, deadline) as killed by SIGTERM.
    private func runCopy(_ source: [UInt8], _ destination: [UInt8]) -> (JobOutcome, Int) {
        let timeoutAt = config.timeout.map { ContinuousClock.now.advanced(by: $0) }
        var timedOut = false
        do throws(CopyFailure) {
            let bytes = try copier!.copy(source, to: destination) {
                if let timeoutAt, ContinuousClock.now >= timeoutAt { timedOut = true; return true }
                return control.isStopping && (control.stopRunning.isFired || control.signalled)
            }
            control.copied(bytes: bytes)
            return (.exited(0), bytes)
        } catch {
            if error.stopped { return (timedOut ? .timedOut : .signaled(SIGTERM), 0) }
            reportCopyFailure(source, destination, error.reason)
            return (.exited(1), 0)
        }
    }

    private func emitStart(_ invocation: Invocation, sequence: Int, slot: Int, pid: Int32?, attempt: Int) {
        switch invocation {
        case .exec(let argv): emitStart(sequence: sequence, slot: slot, pid: pid, attempt: attempt, argv: argv)
        case .shell(let script): emitStart(sequence: sequence, slot: slot, pid: pid, attempt: attempt, command: script)
        }
    }

    private func emitStart(sequence: Int, slot: Int, pid: Int32?, attempt: Int,
                           argv: [[UInt8]]? = nil, command: [UInt8]? = nil) {
        guard let events else { return }
        let pidValue: EventValue = pid.map { .int(Int($0)) } ?? .null
        if let argv {
            events.emit("start", ["seq": .int(sequence), "slot": .int(slot), "pid": pidValue,
                                  "attempt": .int(attempt), "argv": .list(argv)])
        } else {
            events.emit("start", ["seq": .int(sequence), "slot": .int(slot), "pid": pidValue,
                                  "attempt": .int(attempt), "command": .bytes(command ?? [])])
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
        case .lost: return ("broken", nil, nil)
        }
    }

    /// Accounts for a job the executor refused or failed without running.
    func notRun(sequence: Int, slot: Int, records: [[UInt8]], because error: any Error) {
        control.poolFailed(error)
        let command = work(sequence: sequence, slot: slot, records: records).command
        reportError(Array("job \(sequence) not run: ".utf8) + command)
        events?.emit("not-run", ["seq": .int(sequence), "reason": .text("\(error)"), "command": .bytes(command)])
        sink.complete(sequence: sequence, output: nil)
        control.notRun()
    }

    /// Accounts for a job read but never started because the run is stopping.
    func cancelled(sequence: Int, records: [[UInt8]]) {
        let command = work(sequence: sequence, slot: 0, records: records).command
        events?.emit("cancel", ["seq": .int(sequence), "command": .bytes(command)])
        sink.complete(sequence: sequence, output: nil)
        control.cancelled()
    }

    /// Accounts for a job that --resume skips.
    func skipped(sequence: Int, command: [UInt8]) {
        events?.emit("not-run", ["seq": .int(sequence), "reason": .text("resume"), "command": .bytes(command)])
        sink.complete(sequence: sequence, output: nil)
    }

    /// `pfutures: copy SRC -> DST: reason`, the SPEC's message for a failed pair.
    private func reportCopyFailure(_ source: [UInt8], _ destination: [UInt8], _ reason: String) {
        reportError(Array("copy ".utf8) + source + Array(" -> ".utf8) + destination + Array(": \(reason)".utf8))
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
