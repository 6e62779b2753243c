// `pfutures run`: records in, jobs through the executor, output out, outcomes
// into the exit status. The mechanisms live in Jobs; this wires them.
import CSpawn
import FuturesCore
import Jobs
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand {
    var config: RunConfiguration

    /// Runs every job and returns the exit status.
    mutating func execute() -> Int32 {
        // The run's own pipes (stop switches, the orphan guard) must exist
        // before anything else: too few descriptors is one clear error, not a trap.
        if let shortage = Self.descriptorShortage() {
            reportError("cannot start: \(shortage) (raise ulimit -n)")
            return ExitStatus.usage
        }
        guard let hosts = remoteHosts() else { return ExitStatus.usage }
        SignalWatcher.blockSignals()
        // Pacing decides each start when it happens; --pipe holds at most a
        // block per running job: neither queues anything ahead.
        let control = RunControl(workerCap: config.workerCap, lookahead: isPaced ? 0 : min(config.workerCap, 64),
                                 halt: config.halt, stopsTasksOnSignal: config.copy != nil || !hosts.isEmpty)
        // The signal and stdout watchers start with the first record when
        // that record alone makes a job and nothing before it reads ahead or
        // draws (an empty run starts no thread); otherwise now.
        let deadline = Deadline.after(config.deadline)
        var watching = false
        func startWatching() -> Bool {
            watching = true
            do throws(ThreadStartError) { try SignalWatcher.start(for: control, deadline: deadline) } catch {
                reportError("\(error)")
                return false
            }
            SignalWatcher.watchStdout(for: control)
            return true
        }
        let watchLater = watchersCanWaitForFirstRecord && SignalWatcher.stopSignalsAtTheirDefaults
        if !watchLater && !startWatching() { return ExitStatus.usage }

        // A --memfree no machine state can meet would wait for ever, silently.
        if let wanted = config.minFreeMemory, let total = MachineLoad.totalMemory(), wanted > total {
            reportError("--memfree: \(wanted) bytes is more than this machine's memory (\(total) bytes)")
            return ExitStatus.usage
        }
        if let niceness = config.niceness {
            // As `nice -n N`: jobs, and worker processes, inherit it from pfutures.
            errno = 0
            if nice(niceness) == -1 && errno != 0 {
                reportError("--nice \(niceness): \(errnoText(errno))")
                return ExitStatus.usage
            }
        }
        let nextJob: () -> [InputRecord]?
        var nextInput: (() -> JobInput?)?
        var streamReader: WorkerThread?
        var roundRobin: (stream: BlockStream, jobs: Int)?
        var handedOut = 0
        let readError: () -> Int32?
        if let format = config.pipe, config.pipePart {
            guard let path = config.argFile, let ranges = FileRanges(path: path, format: format) else {
                reportError(Array("--pipepart: cannot read ".utf8) + (config.argFile ?? []) + Array(": \(errnoText(errno))".utf8))
                return ExitStatus.usage
            }
            nextJob = { [] }
            nextInput = { ranges.next().map { .fileRange(path: path, offset: $0.offset, length: $0.length) } }
            readError = { ranges.readError }
        } else if let format = config.pipe {
            guard let blocks = openBlocks(format, wakeFD: control.noMoreStarts.fd) else { return ExitStatus.usage }
            nextJob = { [] }
            readError = { blocks.readError }
            if config.roundRobin {
                let jobs = config.workerCap == Int.max ? processorCount : config.workerCap
                let stream = BlockStream(capacity: jobs, takers: jobs)
                roundRobin = (stream, jobs)
                nextInput = {
                    guard handedOut < jobs else { return nil }
                    handedOut += 1
                    return .stream(StreamShare(stream))
                }
                // --dry-run shows the jobs; nothing would take the blocks.
                if !config.dryRun { do throws(ThreadStartError) { streamReader = try WorkerThread.start(name: "round-robin") {
                    while let block = blocks.next() {
                        guard stream.put(block) else {
                            // Stopping (a signal, --halt) ends the jobs on purpose: nothing to say.
                            if !control.isStopping {
                                reportError("every --round-robin job ended before the input did; the rest was not fed")
                                control.recordOwnFailure()
                            }
                            break
                        }
                    }
                    stream.close()
                } } catch {
                    reportError("\(error)")
                    return ExitStatus.usage
                } }
            } else {
                nextInput = { blocks.next().map { .bytes($0) } }
            }
        } else {
            guard let feed = openFeed(wakeFD: control.noMoreStarts.fd) else { return ExitStatus.usage }
            if config.shuffle { feed.shuffle() }
            if let names = feed.names {
                config.template = config.template.resolving(names: names)
                config.tagString = config.tagString?.resolving(names: names)
            }
            nextJob = jobRecords(from: feed, control: control)
            readError = { feed.readError }
        }
        let history = config.resume != .none ? config.jobLog.map { JobLogHistory(path: $0) } : nil
        let jobLog: JobLogWriter?
        let events: EventLog?
        do throws(JobLogError) {
            jobLog = try config.jobLog.map { (path) throws(JobLogError) in try JobLogWriter(path: path, append: config.resume != .none) }
            events = try config.events.map { (path) throws(JobLogError) in
                try EventLog(path: path) { message in
                    reportError(message)
                    control.recordOwnFailure()
                }
            }
        } catch {
            reportError(Array("cannot write ".utf8) + error.path + Array(": \(error.reason)".utf8))
            return ExitStatus.usage
        }
        guard let executor = makeExecutor(control, hosts: hosts) else {
            reportError("cannot find the pfutures binary to start worker processes")
            return ExitStatus.usage
        }
        control.attach(executor)
        let sink = OutputSink(keepOrder: config.keepOrder) { failure in
            if case .failed(let code) = failure { control.stdoutFailed(errnoText(code)) } else { control.stdoutClosed() }
        }
        let runner = JobRunner(config: config, executor: executor, sink: sink, control: control, jobLog: jobLog,
                               events: events)
        let progress = config.progress.map { ProgressReporter(control: control, sink: sink, showBytes: config.copy != nil, style: $0) }
        do throws(ThreadStartError) { try progress?.start() } catch {
            reportError("\(error)")
            return ExitStatus.usage
        }

        // A job's number is its place in the input, on a resumed run too: GNU
        // parallel resumes by these numbers, and {#} stays the same.
        var sequence = 0
        var lastStart: ContinuousClock.Instant?
        // Every thread of the run is started by now or after the first record
        // (so each has the run's signals blocked); until that record this
        // thread alone takes a stop signal, and exits 128+N.
        if watchLater { SignalWatcher.exitOnStopSignalsUntilFirstRecord() }
        while !control.isStopping, let records = nextJob() {
            if !watching {
                SignalWatcher.leaveStopSignalsToTheWatcher()
                if !startWatching() {  // said why; the record read is accounted for, as on a stop
                    control.recordOwnFailure()
                    sequence += 1
                    control.jobRead()
                    runner.cancelled(sequence: sequence, records: records)
                    break
                }
            }
            let input = nextInput?()
            if nextInput != nil && input == nil { break }
            sequence += 1
            control.jobRead()
            if let history {
                let command = runner.command(sequence: sequence, records: records)
                if skipsOnResume(command, history: history) {
                    runner.skipped(sequence: sequence, command: command)
                    continue
                }
            }
            guard waitForPace(control, lastStart: lastStart), let ticket = control.admission.acquire() else {
                if case .stream(let share) = input { share.release() }
                runner.cancelled(sequence: sequence, records: records)
                break
            }
            lastStart = .now
            runner.start(sequence: sequence, records: records, input: input) { control.admission.release(ticket) }
        }
        // --round-robin jobs the run stopped before creating take no block.
        if let (stream, jobs) = roundRobin { for _ in handedOut..<max(handedOut, jobs) { stream.leave() } }
        streamReader?.join()
        control.inputEnded()
        if let code = readError(), !control.isStopping {
            reportError("cannot read input: \(errnoText(code))")
            control.recordOwnFailure()
        }
        // Every job read is accounted for (retries included) before the pool ends.
        control.admission.waitUntilIdle()
        if let (stream, _) = roundRobin, !control.isStopping, !stream.wasRefused,
           stream.undelivered > 0 || stream.tornBlocks > 0 {
            reportError("--round-robin: \(stream.undelivered) block(s) reached no job and \(stream.tornBlocks) only in part "
                        + "(their jobs ended)")
            control.recordOwnFailure()
        }
        executor.shutdown(wait: true, cancelFutures: false)
        control.running.finish()
        progress?.finish()
        for line in control.summaryLines() { reportError(line) }
        return control.exitStatus
    }

    /// Whether the run lets the signal and stdout watchers start with the
    /// first record: until it, a stop signal ends pfutures with 128+N at once,
    /// which is all the run would do only when nothing is read ahead (no
    /// `:::` sources, --header, --shuf or --pipe), the first record alone
    /// makes a job (no -n, -L, -X, -m, nor copy's -0 pairs), nothing draws
    /// (--progress) and nothing is timed (--deadline).
    private var watchersCanWaitForFirstRecord: Bool {
        config.deadline == nil && config.progress == nil && !config.shuffle && !config.header && config.sources.isEmpty
            && config.pipe == nil && !config.packs && !config.recordsPerJobGiven && config.recordsPerJob == 1
    }

    /// Why the pipes a run needs cannot be made, if they cannot: tries
    /// to make them and closes them again.
    private static func descriptorShortage() -> String? {
        var made: [Int32] = []
        defer { for fd in made { close(fd) } }
        for _ in 0..<4 {
            var pair: [Int32] = [-1, -1]
            let result = pf_pipe(&pair)
            if result != 0 { return "pipe: \(errnoText(-result))" }
            made += pair
        }
        return nil
    }

    /// --pipe's blocks, from stdin or `-a FILE`; nil (and said why) when the
    /// file cannot be read.
    private func openBlocks(_ format: BlockFormat, wakeFD: Int32) -> BlockReader? {
        openInput(of: "blocks").map { BlockReader(fd: $0, format: format, wakeFD: wakeFD) }
    }

    /// The descriptor input comes from: `-a FILE`, or stdin (with a hint when
    /// it is a terminal); nil (and said why) when the file cannot be read.
    private func openInput(of what: String) -> Int32? {
        guard let path = config.argFile else {
            if isatty(0) == 1 { reportError("reading \(what) from the terminal; end with Ctrl-D") }
            return 0
        }
        let fd = openRecordFile(path)
        if fd < 0 { reportError(Array("cannot read ".utf8) + path + Array(": \(errnoText(errno))".utf8)) }
        return fd < 0 ? nil : fd
    }

    /// The run's records: the `:::` sources, or stdin / `-a FILE`; nil (and
    /// said why) when a file cannot be read.
    private func openFeed(wakeFD: Int32) -> RecordFeed? {
        if !config.sources.isEmpty {
            do throws(SourceError) {
                let product = try SourceProduct(config.sources, linkAll: config.linkSources, header: config.header,
                                                format: config.recordFormat, stdin: 0, wakeFD: wakeFD)
                return RecordFeed(sources: product, splitter: config.columns)
            } catch {
                reportError(Array("cannot read ".utf8) + error.path + Array(": \(error.reason)".utf8))
                return nil
            }
        }
        guard let inputFD = openInput(of: "records") else { return nil }
        let reader = RecordReader(fd: inputFD, format: config.recordFormat, wakeFD: wakeFD)
        return RecordFeed(stream: reader, splitter: config.columns, header: config.header, endMarker: config.endMarker)
    }

    /// Reads one job's records at a time: -n's count (fewer when they would
    /// not fit a command line, as xargs), or as many as fit with -X/-m. A
    /// record too long for any command line runs alone (and fails), or with
    /// -x stops the run.
    private func jobRecords(from feed: RecordFeed, control: RunControl) -> () -> [InputRecord]? {
        // A copy's -0 pairs are two records a job, never fewer.
        guard config.packs || config.recordsPerJobGiven else {
            return { [config] in
                guard let first = feed.next() else { return nil }
                var records = [first]
                while records.count < config.recordsPerJob, let more = feed.next() { records.append(more) }
                return records
            }
        }
        let packer = RecordPacker(feed: feed, template: config.template, maxChars: config.maxChars,
                                  workers: config.workerCap, maxRecords: config.recordsPerJobGiven ? config.recordsPerJob : nil)
        return { [config] in
            do throws(RecordPacker.TooLong) {
                return try config.packs ? packer.next() : packer.nextCounted(strict: config.exitIfTooLong)
            } catch {
                guard config.exitIfTooLong else { return [error.record] }
                let what = error.records == 1 ? "a record needs" : "\(error.records) records (-n) need"
                reportError("\(what) \(error.bytes) bytes of command line, over the \(error.budget) allowed (-x): stopping")
                control.recordOwnFailure()
                return nil
            }
        }
    }

    /// Whether each start is decided when it happens (--delay, --load,
    /// --memfree), or --pipe holds at most a block per running job.
    private var isPaced: Bool {
        config.delay != nil || config.maxLoad != nil || config.minFreeMemory != nil || config.pipe != nil
    }

    /// The run's one executor: threads, or worker processes. A failed
    /// --initializer breaks it, and the run says why once.
    private func makeExecutor(_ control: RunControl, hosts: [WorkerHost]) -> (any TaskExecutor)? {
        let initializer = config.initializer.map { InitializerJob(command: $0, shell: config.shell) }
        if !hosts.isEmpty {
            return ProcessPoolExecutor(hosts: hosts, chunksize: config.chunksize, maxTasksPerChild: config.maxTasksPerChild,
                                       initializer: initializer, heartbeat: Heartbeat(window: config.workerTimeout),
                                       onHostLost: { reportError($0) })
        }
        switch config.pool {
        case .thread:
            var setUp: (@Sendable () throws -> Void)?
            if let initializer {
                let stop = control.stopRunning
                setUp = { try initializer.perform(stopSwitch: stop) }
            }
            return ThreadPoolExecutor(maxWorkers: config.workerCap, threadNamePrefix: "job", initializer: setUp,
                                      onThreadStartFailure: { reportError($0) })
        case .process:
            guard let executable = currentExecutable() else { return nil }
            // -j0 asks for no cap; worker processes still need a number.
            let cap = config.workerCap == Int.max ? 4 * processorCount : config.workerCap
            // Each slot gets its next job while it runs one, so it never
            // waits for the round trip. A job that fails holds its slot until
            // the run has seen it (--halt fail=, exit 255). Nothing waits in a
            // worker when a halt counts successes or all jobs (any job may
            // end the run), with --timeout P% (a job's limit is set from
            // the runtimes known when it is sent) or when the run is paced
            // (--delay, --load, --memfree, --pipe). A job queued behind a long
            // one is taken back for another slot.
            let lookAhead = config.halt.map { $0.counting == .fail } ?? true && config.timeoutPercent == nil && !isPaced
            let prefetch = lookAhead ? 1 : 0
            return ProcessPoolExecutor(maxWorkers: cap, launcher: .local(executable: executable),
                                       chunksize: config.chunksize, prefetch: prefetch,
                                       maxTasksPerChild: config.maxTasksPerChild, initializer: initializer,
                                       heartbeat: Heartbeat(window: config.workerTimeout),
                                       onWorkerStartFailure: { reportError($0) })
        }
    }

    /// The hosts of -S, --sshloginfile or --slurm (empty: this machine
    /// only); nil when they cannot be had (said why). The run's cap becomes
    /// their slots together, counting a host of unknown size as 64, so
    /// enough jobs wait for hosts that report many cores.
    private mutating func remoteHosts() -> [WorkerHost]? {
        guard config.remote.isRequested else {
            let nodes = RemoteHosts.allocationNodes
            if nodes > 1 { reportError("running on this node only; --slurm would use all \(nodes) nodes of the Slurm allocation") }
            return []
        }
        guard let executable = currentExecutable() else {
            reportError("cannot find the pfutures binary to start worker processes")
            return nil
        }
        do throws(RemoteHosts.Failure) {
            let hosts = try RemoteHosts.hosts(config.remote, slotsPerHost: config.workerCapGivenValue.flatMap { $0 == Int.max ? nil : $0 },
                                               executable: executable)
            config.workerCap = hosts.reduce(0) { $0 + ($1.slots ?? 64) }
            return hosts
        } catch {
            reportError(error.message)
            return nil
        }
    }

    /// Whether the job running `command` is skipped: a template's command
    /// compared as shell words (either tool's quoting), a shell command
    /// (command mode) as text.
    private func skipsOnResume(_ command: [UInt8], history: JobLogHistory) -> Bool {
        let asText = config.template.mode == .command
        switch config.resume {
        case .none: return false
        case .all: return asText ? history.recordedText.contains(command) : history.recorded.contains(JobLogHistory.words(command))
        case .succeededOnly:
            return asText ? history.succeededText.contains(command) : history.succeeded.contains(JobLogHistory.words(command))
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
