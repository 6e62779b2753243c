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
    struct Attempts: Sendable {
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
        // A job starts once: not again when tried again after a shortage.
        let watch = JobWatch(runner: self, attempt: attempt, countsStart: attempt == 1 && plan.shortages == 0,
                             tag: plan.tag, slotTag: slotTag)
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
                    control.triesAgainAfterShortage()
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
}
