// `pfutures run`: records in, jobs through the executor, output out, outcomes
// into the exit status. The mechanisms live in Jobs; this wires them.
import Futures
import Jobs
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand {
    let config: RunConfiguration

    /// Runs every job and returns the exit status.
    func execute() -> Int32 {
        SignalWatcher.blockSignals()
        let control = RunControl(workerCap: config.workerCap, halt: config.halt)
        SignalWatcher.start(for: control, deadline: Deadline.after(config.deadline))
        SignalWatcher.watchStdout(for: control)

        var inputFD: Int32 = 0
        if let path = config.argFile {
            inputFD = (path + [0]).withUnsafeBytes { open($0.baseAddress!.assumingMemoryBound(to: CChar.self), O_RDONLY | O_CLOEXEC) }
            if inputFD < 0 {
                reportError(Array("cannot read ".utf8) + path + Array(": \(errnoText(errno))".utf8))
                return ExitStatus.usage
            }
        }
        let history = config.resume != .none ? config.jobLog.map { JobLogHistory(path: $0) } : nil
        let jobLog: JobLogWriter?
        let events: EventLog?
        do throws(JobLogError) {
            jobLog = try config.jobLog.map { (path) throws(JobLogError) in try JobLogWriter(path: path, append: config.resume != .none) }
            events = try config.events.map { (path) throws(JobLogError) in try EventLog(path: path) }
        } catch {
            reportError(Array("cannot write ".utf8) + error.path + Array(": \(error.reason)".utf8))
            return ExitStatus.usage
        }
        let sink = OutputSink(keepOrder: config.keepOrder) { control.stdoutClosed() }
        let launcher = JobLauncher(shell: config.shell, inheritStdin: config.argFile != nil)
        var initializer: (@Sendable () throws -> Void)?
        if let command = config.initializer {
            initializer = { try launcher.runInitializer(command, stopSwitch: control.stopRunning) }
        }
        // The gate enforces -j (and follows SIGUSR1/2); the pool only supplies
        // threads, started lazily, so its thread count is the peak concurrency.
        let executor = ThreadPoolExecutor(maxWorkers: Int.max, threadNamePrefix: "job", initializer: initializer)
        let reader = RecordReader(fd: inputFD, format: config.recordFormat, wakeFD: control.noMoreStarts.fd)
        let copier = config.copy.map { FileCopier(options: $0) }
        let runner = JobRunner(config: config, launcher: launcher, copier: copier, sink: sink, control: control,
                               jobLog: jobLog, events: events)
        let progress = config.progress ? ProgressReporter(control: control, sink: sink, showBytes: copier != nil) : nil
        progress?.start()

        var sequence = history?.lastSequence ?? 0
        var lastStart: ContinuousClock.Instant?
        reading: while !control.isStopping, let first = reader.next() {
            var records = [first]
            while records.count < config.recordsPerJob, let more = reader.next() { records.append(more) }
            sequence += 1
            control.jobRead()
            if let history {
                let key = JobLogEntry.field(runner.work(sequence: sequence, slot: 1, records: records).command)
                if skipsOnResume(key, history: history) {
                    runner.skipped(sequence: sequence, command: key)
                    continue
                }
            }
            guard waitForPace(control, lastStart: lastStart), let slot = control.gate.acquire() else {
                runner.cancelled(sequence: sequence, records: records)
                break reading
            }
            lastStart = .now
            let job = sequence, jobRecords = records
            do {
                let future = try executor.submit { runner.run(sequence: job, slot: slot, records: jobRecords) }
                // The slot goes back once the worker is free again, so the
                // next job reuses that thread. A broken pool fails queued
                // jobs without running them.
                future.addDoneCallback { future in
                    if let error = try? future.exception(timeout: .zero) {
                        runner.notRun(sequence: job, slot: slot, records: jobRecords, because: error)
                    }
                    control.gate.release(slot)
                }
            } catch {
                runner.notRun(sequence: job, slot: slot, records: jobRecords, because: error)
                control.gate.release(slot)
                break reading
            }
        }
        control.inputEnded()
        if let code = reader.readError, !control.isStopping {
            reportError("cannot read input: \(errnoText(code))")
            control.recordOwnFailure()
        }
        executor.shutdown(wait: true, cancelFutures: false)
        progress?.finish()
        for line in control.summaryLines() { reportError(line) }
        return control.exitStatus
    }

    /// Whether the job whose job-log Command field is `key` is skipped.
    private func skipsOnResume(_ key: [UInt8], history: JobLogHistory) -> Bool {
        switch config.resume {
        case .none: return false
        case .all: return history.recorded.contains(key)
        case .succeededOnly: return history.succeeded.contains(key)
        }
    }

    /// Holds the next start for --delay, --load and --memfree; false if the
    /// run started stopping meanwhile.
    private func waitForPace(_ control: RunControl, lastStart: ContinuousClock.Instant?) -> Bool {
        if let delay = config.delay, let lastStart {
            let left = delay - (ContinuousClock.now - lastStart)
            if left > .zero && !control.pause(for: left) { return false }
        }
        while !control.isStopping {
            let overloaded = config.maxLoad.map { limit in (MachineLoad.oneMinuteAverage() ?? 0) > limit } ?? false
            let shortOfMemory = config.minFreeMemory.map { limit in (MachineLoad.availableMemory() ?? Int.max) < limit } ?? false
            guard overloaded || shortOfMemory else { return true }
            if !control.pause(for: .milliseconds(500)) { return false }
        }
        return false
    }
}
