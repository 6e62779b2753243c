// `pfutures run`: records in, jobs through the executor, output out, outcomes
// into the exit status. The mechanisms live in Jobs; this wires them.
import FuturesCore
import Jobs
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand {
    let config: RunConfiguration

    /// Runs every job and returns the exit status.
    func execute() -> Int32 {
        SignalWatcher.blockSignals()
        // With worker processes, up to chunksize jobs wait inside each worker.
        let gateLimit = config.pool == .process && config.workerCap != Int.max
            ? config.workerCap * config.chunksize : config.workerCap
        // Pacing decides each start when it happens, so it queues nothing ahead.
        let paced = config.delay != nil || config.maxLoad != nil || config.minFreeMemory != nil
        let control = RunControl(workerCap: gateLimit, lookahead: paced ? 0 : min(gateLimit, 64), halt: config.halt)
        SignalWatcher.start(for: control, deadline: Deadline.after(config.deadline))
        SignalWatcher.watchStdout(for: control)

        var inputFD: Int32 = 0
        if let path = config.argFile {
            inputFD = openPath(path, O_RDONLY | O_CLOEXEC)
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
        let workerPool = config.pool == .process ? makeWorkerPool(control) : nil
        if config.pool == .process && workerPool == nil {
            reportError("cannot find the pfutures binary to start worker processes")
            return ExitStatus.usage
        }
        var initializer: (@Sendable () throws -> Void)?
        if let command = config.initializer, workerPool == nil {
            initializer = { try launcher.runInitializer(command, stopSwitch: control.stopRunning) }
        }
        // The pool has one thread per worker slot, started lazily; the gate
        // hands out slot numbers ({%}) and follows SIGUSR1/2 with the pool.
        let executor = ThreadPoolExecutor(maxWorkers: gateLimit, threadNamePrefix: "job", initializer: initializer)
        control.followCap { delta in executor.adjustMaxWorkers(by: delta) }
        let reader = RecordReader(fd: inputFD, format: config.recordFormat, wakeFD: control.noMoreStarts.fd)
        let copier = config.copy.map { FileCopier(options: $0) }
        let runner = JobRunner(config: config, launcher: launcher, copier: copier, workerPool: workerPool, sink: sink,
                               control: control, jobLog: jobLog, events: events)
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
            guard waitForPace(control, lastStart: lastStart), let ticket = control.admission.acquire() else {
                runner.cancelled(sequence: sequence, records: records)
                break reading
            }
            lastStart = .now
            let job = sequence, jobRecords = records
            do {
                let future = try executor.submit {
                    // A job queued when the run began to stop never starts.
                    guard !control.isStopping, let slot = control.gate.acquire() else {
                        runner.cancelled(sequence: job, records: jobRecords)
                        return
                    }
                    runner.run(sequence: job, slot: slot, records: jobRecords)
                    control.gate.release(slot)
                }
                // A broken pool fails queued jobs without running them.
                future.addDoneCallback { future in
                    if let error = try? future.exception(timeout: .zero) {
                        runner.notRun(sequence: job, slot: 0, records: jobRecords, because: error)
                    }
                    control.admission.release(ticket)
                }
            } catch {
                runner.notRun(sequence: job, slot: 0, records: jobRecords, because: error)
                control.admission.release(ticket)
                break reading
            }
        }
        control.inputEnded()
        if let code = reader.readError, !control.isStopping {
            reportError("cannot read input: \(errnoText(code))")
            control.recordOwnFailure()
        }
        executor.shutdown(wait: true, cancelFutures: false)
        workerPool?.shutdown()
        control.running.finish()
        progress?.finish()
        for line in control.summaryLines() { reportError(line) }
        return control.exitStatus
    }

    /// Worker processes for --pool process; they stop their jobs when the run
    /// must stop running jobs.
    private func makeWorkerPool(_ control: RunControl) -> WorkerPool? {
        guard let executable = currentExecutable() else { return nil }
        var settings = WorkerSettings()
        settings.shell = config.shell
        settings.initializer = config.initializer
        settings.copy = config.copy ?? CopyOptions()
        // -j0 asks for no cap; worker processes still need a number.
        let size = config.workerCap == Int.max ? 4 * processorCount : config.workerCap
        let pool = WorkerPool(size: size, chunksize: config.chunksize, maxTasksPerChild: config.maxTasksPerChild,
                              executable: executable, settings: settings) { reason in
            control.poolFailed(BrokenWorkerPool(reason: reason))
        }
        control.followCap { delta in pool.resize(by: delta) }
        let stopFD = control.stopRunning.fd
        WorkerThread.detach(name: "pool-stop") {
            var pfd = pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)
            while poll(&pfd, 1, -1) < 0 && errno == EINTR {}
            pool.stop()
        }
        return pool
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

/// The worker processes can no longer run jobs (concurrent.futures' BrokenProcessPool).
struct BrokenWorkerPool: Error, CustomStringConvertible {
    let reason: String
    var description: String { "process pool is broken: \(reason)" }
}
