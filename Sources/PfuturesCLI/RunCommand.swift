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
        let sink = OutputSink(keepOrder: config.keepOrder) { control.stdoutClosed() }
        let launcher = JobLauncher(shell: config.shell, inheritStdin: config.argFile != nil)
        // The gate enforces -j (and follows SIGUSR1/2); the pool only supplies
        // threads, started lazily, so its thread count is the peak concurrency.
        var initializer: (@Sendable () throws -> Void)?
        if let command = config.initializer {
            initializer = { try launcher.runInitializer(command, stopSwitch: control.stopRunning) }
        }
        let executor = ThreadPoolExecutor(maxWorkers: Int.max, threadNamePrefix: "job", initializer: initializer)
        let reader = RecordReader(fd: inputFD, format: config.recordFormat, wakeFD: control.noMoreStarts.fd)
        let runner = JobRunner(config: config, launcher: launcher, sink: sink, control: control)

        var sequence = 0
        reading: while !control.isStopping, let first = reader.next() {
            var records = [first]
            while records.count < config.recordsPerJob, let more = reader.next() { records.append(more) }
            sequence += 1
            guard let slot = control.gate.acquire() else {
                sink.complete(sequence: sequence, output: nil)
                break reading
            }
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
        if let code = reader.readError, !control.isStopping {
            reportError("cannot read input: \(errnoText(code))")
            control.recordOwnFailure()
        }
        executor.shutdown(wait: true, cancelFutures: false)
        return control.exitStatus
    }
}

/// Runs one job from records to recorded outcome.
struct JobRunner: Sendable {
    let config: RunConfiguration
    let launcher: JobLauncher
    let sink: OutputSink
    let control: RunControl

    func run(sequence: Int, slot: Int, records: [[UInt8]]) {
        let invocation = config.template.invocation(records: records, sequence: sequence, slot: slot)
        if config.verbose { sink.writeStderr(invocation.displayText + [0x0A]) }
        if config.dryRun {  // through the sink, so -k orders it like output
            let output = JobOutput()
            output.stdout.append(invocation.displayText + [0x0A])
            sink.complete(sequence: sequence, output: output)
            return
        }
        let tag = config.tag ? Array(records.joined(separator: [0x20])) : nil
        var grouped: GroupedReceiver?
        var lines: LineReceiver?
        let receiver: OutputReceiver?
        switch config.outputMode {
        case .group: grouped = GroupedReceiver(tag: tag); receiver = grouped
        case .lineBuffer: lines = LineReceiver(sink: sink, tag: tag); receiver = lines
        case .ungroup: receiver = nil
        }

        let outcome: JobOutcome
        switch launcher.launch(invocation, sequence: sequence, slot: slot, capture: receiver != nil) {
        case .failure(let failure):
            outcome = .spawnFailed(failure)
            report(failure, invocation: invocation)
        case .success(let process):
            control.running.register(process.pid)
            outcome = process.wait(receiver: receiver, timeout: config.timeout,
                                   killSequence: KillSequence(grace: config.killAfter),
                                   stopSwitch: control.stopRunning)
            control.running.unregister(process.pid)
        }
        lines?.finish()
        sink.complete(sequence: sequence, output: grouped?.output)
        if outcome == .timedOut {
            reportError(Array("job \(sequence) timed out and was stopped: ".utf8) + invocation.displayText)
        }
        control.record(outcome)
    }

    /// Accounts for a job the executor refused or failed without running.
    func notRun(sequence: Int, slot: Int, records: [[UInt8]], because error: any Error) {
        control.poolFailed(error)
        let invocation = config.template.invocation(records: records, sequence: sequence, slot: slot)
        reportError(Array("job \(sequence) not run: ".utf8) + invocation.displayText)
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
