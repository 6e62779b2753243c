// What the run says about its jobs: the events (start, finish, retry,
// cancel, not-run), the accounting of jobs that never ran, and a job's
// conclusion (its output to the sink, --results, the job log, the tally).
import Jobs
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

extension JobRunner {
    /// The `start` event of one attempt.
    func emitStart(_ job: Job, slot: Int, pid: Int32?, host: String?, attempt: Int) {
        guard let events else { return }
        let pidValue: EventValue = pid.map { .int(Int($0)) } ?? .null
        let hostValue: EventValue = host.map { .text($0) } ?? .null
        let argv: [[UInt8]]
        switch job.action {
        case .process(.exec(let words)): argv = words
        case .copy(let source, let destination): argv = [Array("copy".utf8), source, destination]
        case .process(.shell), .invalid:
            events.emit("start", ["seq": .int(job.sequence), "slot": .int(slot), "pid": pidValue, "host": hostValue,
                                  "attempt": .int(attempt), "command": .bytes(job.command)])
            return
        }
        events.emit("start", ["seq": .int(job.sequence), "slot": .int(slot), "pid": pidValue, "host": hostValue,
                              "attempt": .int(attempt), "argv": .list(argv)])
    }

    /// The `finish` event of one attempt.
    func emitFinish(_ result: JobResult, job: Job?, slot: Int, pid: Int32?, host: String?, attempt: Int) {
        guard let events else { return }
        let (kind, code, signal) = Self.describe(result.outcome)
        events.emit("finish", ["seq": .int(job?.sequence ?? 0), "slot": .int(slot), "pid": pid.map { .int(Int($0)) } ?? .null,
                               "host": host.map { .text($0) } ?? .null,
                               "attempt": .int(attempt), "outcome": .text(kind),
                               "exit": code.map { .int(Int($0)) } ?? .null,
                               "signal": signal.map { .int(Int($0)) } ?? .null,
                               "duration": .double(result.runtime), "command": .bytes(job?.command ?? [])])
    }

    /// The `retry` event: attempt `attempt` comes next.
    func emitRetry(sequence: Int, slot: Int, attempt: Int, command: [UInt8]) {
        events?.emit("retry", ["seq": .int(sequence), "slot": .int(slot), "attempt": .int(attempt),
                               "command": .bytes(command)])
    }

    /// The events' outcome name, exit code and signal for `outcome`.
    static func describe(_ outcome: JobOutcome) -> (String, Int32?, Int32?) {
        switch outcome {
        case .exited(0): return ("ok", 0, nil)
        case .exited(let code): return ("failed", code, nil)
        case .signaled(let signal): return ("signal", nil, signal)
        case .timedOut: return ("timeout", nil, SIGTERM)
        case .spawnFailed(.notFound): return ("spawn-error", 127, nil)
        case .spawnFailed(.cannotRun), .spawnFailed(.shortOfResources): return ("spawn-error", 126, nil)
        case .lost: return ("broken", nil, nil)
        }
    }

    /// A command as messages show it: whole up to 300 bytes, else its start
    /// and its length, so a huge record does not flood stderr.
    static func brief(_ command: [UInt8]) -> [UInt8] {
        guard command.count > 300 else { return command }
        return Array(command.prefix(300)) + Array("... (\(command.count) bytes)".utf8)
    }

    /// How job `sequence` is named when it never ran (the resume key too).
    func command(sequence: Int, records: [InputRecord]) -> [UInt8] {
        job(sequence: sequence, slot: 1, records: records).command
    }

    /// Accounts for a job the executor refused or failed without running.
    func notRun(sequence: Int, records: [InputRecord], because error: any Error) {
        control.poolFailed(error)
        let command = command(sequence: sequence, records: records)
        reportError(Array("job \(sequence) not run: ".utf8) + Self.brief(command))
        events?.emit("not-run", ["seq": .int(sequence), "reason": .text("\(error)"), "command": .bytes(command)])
        sink.complete(sequence: sequence, output: nil)
        control.notRun()
    }

    /// Accounts for a job read but never started because the run is stopping.
    func cancelled(sequence: Int, records: [InputRecord]) {
        let command = command(sequence: sequence, records: records)
        events?.emit("cancel", ["seq": .int(sequence), "command": .bytes(command)])
        sink.complete(sequence: sequence, output: nil)
        control.cancelled()
    }

    /// Accounts for a job that --resume skips.
    func skipped(sequence: Int, command: [UInt8]) {
        events?.emit("not-run", ["seq": .int(sequence), "reason": .text("resume"), "command": .bytes(command)])
        sink.complete(sequence: sequence, output: nil)
    }

    /// --results: the job's output saved under DIR too; a failure is said
    /// and counts as pfutures' own, the output still goes to stdout.
    func saveResults(in directory: [UInt8], _ plan: Attempts, _ output: JobOutput?) {
        let values = plan.records.flatMap(\.columns)
        if let failure = ResultsDirectory(directory).save(values: values, sequence: plan.sequence, output: output) {
            control.resultsFailed("cannot save the results of job \(plan.sequence): \(failure)")
        }
    }

    /// The job's last attempt: output, job log, tally.
    func conclude(_ plan: Attempts, _ watch: JobWatch, _ result: JobResult) {
        if case .stream(let share) = plan.input { share.release() }
        // Shown only in the job log or for a failure: a packed job's command
        // line is 128 KiB of text not worth building for nothing.
        let command = jobLog != nil || !result.outcome.succeeded ? watch.job?.command ?? [] : []
        if let directory = config.results { saveResults(in: directory, plan, watch.output) }
        sink.complete(sequence: plan.sequence, output: watch.output)
        let (exitValue, signal) = JobLogEntry.columns(for: result.outcome)
        let received = config.copy != nil ? result.bytesCopied
                                          : (watch.output?.stdout.count ?? 0) + (watch.output?.stderr.count ?? 0)
        let entry = JobLogEntry(sequence: plan.sequence, startTime: result.startedAt, runtime: result.runtime,
                                sent: watch.job?.input?.byteCount ?? 0,
                                received: received, exitValue: exitValue, signal: signal, command: command,
                                host: watch.host)
        if let failure = jobLog?.append(entry) {
            reportError(failure)
            control.recordOwnFailure()
        }
        if result.outcome == .timedOut {
            reportError(Array("job \(plan.sequence) timed out and was stopped: ".utf8) + Self.brief(command))
        }
        control.finished(result.outcome, command: command)
        plan.admitted()
    }
}
