// One job from records to recorded outcome: build the Job once, submit it
// to the executor (whichever pool it is), and when its future is done
// decide: retry, or report to the sink, job log, events and tally.
import FuturesCore
import Jobs
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// Runs jobs for `pfutures run` and `pfutures copy`.
struct JobRunner: Sendable {
    let config: RunConfiguration
    let executor: any TaskExecutor
    let sink: OutputSink
    let control: RunControl
    let jobLog: JobLogWriter?
    let events: EventLog?

    /// The settings every job of the run shares.
    private var settings: JobSettings {
        var settings = JobSettings()
        settings.shell = config.shell
        // GNU parallel's --timeout P%: a share of the median so far, none until three jobs ended.
        settings.timeout = config.timeout ?? config.timeoutPercent.flatMap { percent in
            control.medianRuntime.map { .nanoseconds(Int64($0 * percent / 100 * 1e9)) }
        }
        settings.killAfter = config.killAfter
        settings.captureOutput = config.outputMode != .ungroup
        settings.inheritStdin = config.argFile != nil && config.sources.isEmpty
        settings.copy = config.copy ?? CopyOptions()
        settings.placement = config.placement
        return settings
    }

    /// Job `sequence` of `records`, as it runs in `slot`.
    func job(sequence: Int, slot: Int, records: [InputRecord], input: JobInput? = nil) -> Job {
        // --pipe: the block goes to stdin, never into the arguments.
        guard let input else {
            return Job(sequence: sequence, action: action(sequence: sequence, slot: slot, records: records), settings: settings)
        }
        let invocation = config.template.invocation(records: [], sequence: sequence, slot: slot)
        // A worker process gets a block inside one protocol frame.
        if case .bytes(let block) = input, config.pool == .process, block.count > Self.largestBlockForWorkers {
            let reason = "block \(sequence) has \(block.count) bytes, over the \(Self.largestBlockForWorkers >> 20) MiB a worker "
                + "process takes (a record that long needs --pool thread)"
            return Job(sequence: sequence, action: .invalid(command: invocation.displayText, reason: reason), settings: settings)
        }
        return Job(sequence: sequence, action: .process(invocation), settings: settings, input: input)
    }

    /// The largest --pipe block sent to a worker process.
    static let largestBlockForWorkers = 60 << 20

    private func action(sequence: Int, slot: Int, records: [InputRecord]) -> JobAction {
        guard config.copy != nil else {
            return .process(config.template.invocation(records: records, sequence: sequence, slot: slot))
        }
        if records.count == 2 { return .copy(source: records[0].text, destination: records[1].text) }
        let line = records.first?.text ?? []
        guard records.count == 1, let tab = line.firstIndex(of: 0x09) else {
            return .invalid(command: Array(records.map(\.text).joined(separator: [0x20])),
                            reason: "record \(sequence) is not SRC<TAB>DST (or SRC NUL DST NUL with -0)")
        }
        return .copy(source: Array(line[..<tab]), destination: Array(line[(tab + 1)...]))
    }

    /// Starts job `sequence`; `admitted` is given back once it is accounted for.
    func start(sequence: Int, records: [InputRecord], input: JobInput? = nil, admitted: @escaping @Sendable () -> Void) {
        // Built once, unless {%} makes the job depend on the slot it gets or
        // --timeout P% on the runtimes known when it starts.
        let fixed = config.template.usesSlot || config.timeoutPercent != nil ? nil
                                                                             : job(sequence: sequence, slot: 0, records: records,
                                                                                   input: input)
        if config.dryRun {  // through the sink, so -k orders it like output
            if case .stream(let share) = input { share.release() }
            let shown = fixed ?? job(sequence: sequence, slot: (sequence - 1) % max(1, executor.maxWorkers) + 1,
                                     records: records, input: input)
            if config.verbose { sink.writeStderr(shown.command + [0x0A]) }
            let output = JobOutput()
            output.stdout.append(shown.command + [0x0A])
            sink.complete(sequence: sequence, output: output)
            control.jobStarted()
            control.finished(.exited(0), command: shown.command)
            admitted()
            return
        }
        // A --tagstring with {%} is made when the slot is known (JobWatch).
        let tag = config.tagString.flatMap { $0.usesSlot ? nil : $0.text(records: records, sequence: sequence, slot: 0) }
            ?? (config.tag && config.tagString == nil ? Array(records.map(\.text).joined(separator: [0x20])) : nil)
        let plan = Attempts(sequence: sequence, records: records, input: input, fixed: fixed, tag: tag, admitted: admitted)
        submit(plan, attempt: 1)
    }

    /// What every attempt of one job shares.
    private struct Attempts: Sendable {
        let sequence: Int
        let records: [InputRecord]
        let input: JobInput?
        let fixed: Job?
        let tag: [UInt8]?
        let admitted: @Sendable () -> Void
        var shortages = 0  // tries put off for want of descriptors or processes
    }

    private func submit(_ plan: Attempts, attempt: Int, previous: (JobWatch, JobResult)? = nil) {
        let slotTag = config.tagString.flatMap { template in
            template.usesSlot ? { @Sendable (slot: Int) in template.text(records: plan.records, sequence: plan.sequence, slot: slot) }
                              : nil
        }
        let watch = JobWatch(runner: self, attempt: attempt, tag: plan.tag, slotTag: slotTag)
        let future: Future<JobResult>
        do {
            future = try executor.submit(observer: watch) { [self] slot in
                watch.prepared(plan.fixed ?? job(sequence: plan.sequence, slot: slot, records: plan.records, input: plan.input))
            }
        } catch {
            if case .stream(let share) = plan.input { share.release() }
            // A retry the run no longer takes keeps the last attempt's result.
            if let (watch, result) = previous { return conclude(plan, watch, result) }
            if error is ExecutorShutdownError { cancelled(sequence: plan.sequence, records: plan.records) } else {
                notRun(sequence: plan.sequence, records: plan.records, because: error)
            }
            return plan.admitted()
        }
        future.addDoneCallback { [self] future in
            watch.ended()
            let result: JobResult
            switch Result(catching: { try future.result(timeout: .zero) }) {
            case .success(let value): result = value
            case .failure(let error as BrokenProcessPool) where error.taskWasRunning:
                result = JobResult(outcome: .lost(error.reason), startedAt: wallClockNow(), runtime: 0,
                                   message: Array("job \(plan.sequence) lost: \(error.reason) (BrokenProcessPool): ".utf8)
                                       + Self.brief(watch.job?.command ?? []))
            case .failure(let error):
                if case .stream(let share) = plan.input { share.release() }
                if let (watch, result) = previous { return conclude(plan, watch, result) }
                if error is CancelledError { cancelled(sequence: plan.sequence, records: plan.records) } else {
                    notRun(sequence: plan.sequence, records: plan.records, because: error)
                }
                return plan.admitted()
            }
            // Out of descriptors or processes: fewer jobs at once, and this
            // attempt again once others have ended (not a failure of the job).
            if case .spawnFailed(.shortOfResources(let why)) = result.outcome, !control.isStopping,
               control.shortOfResources(why, tries: plan.shortages) {
                WorkerThread.detachOrRun(name: "retry") {
                    let goOn = control.pause(for: .milliseconds(100))
                    // A first attempt counted as started; started again, it counts once.
                    control.triesAgainAfterShortage(startsAgain: goOn && attempt == 1)
                    var again = plan
                    again.shortages += 1
                    if goOn { submit(again, attempt: attempt, previous: previous) } else { conclude(plan, watch, result) }
                }
                return
            }
            // A template whose program is missing fails every job alike: say
            // it once and stop (xargs), rather than once per record.
            let missing = result.outcome == .spawnFailed(.notFound) && config.template.programIsFixed
            if let message = result.message, !missing || control.programMissing() { reportError(message) }
            if result.bytesCopied > 0 { control.copied(bytes: result.bytesCopied) }
            if config.timeoutPercent != nil, case .exited = result.outcome { control.recordRuntime(result.runtime) }
            emitFinish(result, job: watch.job, slot: watch.slot, pid: watch.pid, host: watch.host, attempt: attempt)
            guard config.retry.shouldRetry(result.outcome, attempt: attempt) && !control.isStopping else {
                return conclude(plan, watch, result)
            }
            emitRetry(sequence: plan.sequence, slot: watch.slot, attempt: attempt + 1, command: watch.job?.command ?? [])
            // A retried attempt's output is dropped; only the last one is shown.
            let delay = config.retry.wait(after: attempt)
            guard delay > .zero else { return submit(plan, attempt: attempt + 1, previous: (watch, result)) }
            WorkerThread.detachOrRun(name: "retry") {
                if control.pause(for: delay) { submit(plan, attempt: attempt + 1, previous: (watch, result)) } else {
                    conclude(plan, watch, result)
                }
            }
        }
    }

    /// --results: the job's output saved under DIR too; a failure is said
    /// and counts as pfutures' own, the output still goes to stdout.
    private func saveResults(in directory: [UInt8], _ plan: Attempts, _ output: JobOutput?) {
        let values = plan.records.flatMap(\.columns)
        if let failure = ResultsDirectory(directory).save(values: values, sequence: plan.sequence, output: output) {
            control.resultsFailed("cannot save the results of job \(plan.sequence): \(failure)")
        }
    }

    /// The job's last attempt: output, job log, tally.
    private func conclude(_ plan: Attempts, _ watch: JobWatch, _ result: JobResult) {
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
