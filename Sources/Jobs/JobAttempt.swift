// One attempt at a job, the same in a thread of pfutures and in a worker
// process: spawn and watch a process (capture, time limit, kill sequence)
// or copy a pair, and describe the end as a `JobResult`. Retries, output
// routing and reporting belong to whoever submitted the job.
import FuturesCore
import ProcessPool
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Job {
    /// Runs the job once in `context` (its slot, its stop switch, where its
    /// output goes). Never throws: a job that fails is a result.
    package func attempt(in context: any TaskContext) -> JobResult {
        let startedAt = wallClockNow()
        let clock = ContinuousClock.now
        var result = JobResult(outcome: .exited(0), startedAt: startedAt, runtime: 0)
        switch action {
        case .process(let invocation):
            (result.outcome, result.message) = runProcess(invocation, in: context)
        case .copy(let source, let destination):
            context.started(pid: nil)
            (result.outcome, result.bytesCopied, result.message) = copy(source, destination, stop: context.stopSwitch)
        case .invalid(_, let reason):
            context.started(pid: nil)
            result.outcome = .spawnFailed(.cannotRun(reason))
            result.message = Array(reason.utf8)
        }
        result.runtime = (ContinuousClock.now - clock).inSeconds
        return result
    }

    private func runProcess(_ invocation: Invocation, in context: any TaskContext) -> (JobOutcome, [UInt8]?) {
        // --pipepart: a range this side cannot read would feed the job nothing.
        if case .fileRange(let path, _, _)? = input, withCString(path, { access($0, R_OK) }) != 0 {
            let why = "--pipepart: cannot read \(String(decoding: path, as: UTF8.self)): \(errnoText(errno))"
            context.started(pid: nil)
            return (.spawnFailed(.cannotRun(why)), Array(why.utf8))
        }
        // A job in a worker process cannot share pfutures' descriptors: its
        // output always travels back through the context.
        let capture = settings.captureOutput || !context.sharesSubmittersOutput
        let program: [UInt8]
        switch invocation {
        case .exec(let argv): program = argv.first ?? []
        case .shell: program = settings.shell
        }
        // The stdin feeder's thread comes first: without one, the job must not start.
        var feeder: StdinFeeder?
        if let input {
            do throws(ThreadStartError) { feeder = try StdinFeeder.start(input) } catch {
                if case .stream(let share) = input { share.release() }
                context.started(pid: nil)
                return (.spawnFailed(.shortOfResources(error.description)), program + Array(": cannot run: \(error)".utf8))
            }
        }
        let launched = JobLauncher.shared.launch(invocation, shell: settings.shell,
                                                 inheritStdin: settings.inheritStdin && context.sharesSubmittersOutput,
                                                 sequence: sequence, slot: context.slot, capture: capture,
                                                 placement: settings.placement, feedsStdin: input != nil)
        switch launched {
        case .failure(let failure):
            feeder?.hand(-1)
            if case .stream(let share) = input { share.release() }
            context.started(pid: nil)
            switch failure {
            case .notFound: return (.spawnFailed(failure), program + Array(": command not found".utf8))
            case .cannotRun(let why), .shortOfResources(let why):
                return (.spawnFailed(failure), program + Array(": cannot run: \(why)".utf8))
            }
        case .success(let process):
            feeder?.hand(process.takeStdin())
            context.started(pid: process.pid)
            let outcome = process.wait(receiver: capture ? ContextOutput(context) : nil, timeout: settings.timeout,
                                       killSequence: KillSequence(grace: settings.killAfter), stopSwitch: context.stopSwitch)
            return (outcome, nil)
        }
    }

    /// A copy pair: a failure counts as a job that exited 1; a copy stopped
    /// by the timeout counts as timed out, one stopped by the run as killed
    /// by SIGTERM.
    private func copy(_ source: [UInt8], _ destination: [UInt8], stop: StopSwitch) -> (JobOutcome, Int, [UInt8]?) {
        let timeoutAt = settings.timeout.map { ContinuousClock.now.advanced(by: $0) }
        var timedOut = false
        do throws(CopyFailure) {
            let bytes = try FileCopier.shared(for: settings.copy).copy(source, to: destination) {
                if let timeoutAt, ContinuousClock.now >= timeoutAt { timedOut = true; return true }
                return stop.isFired
            }
            return (.exited(0), bytes, nil)
        } catch {
            if error.stopped { return (timedOut ? .timedOut : .signaled(SIGTERM), 0, nil) }
            return (.exited(1), 0, Array("copy ".utf8) + source + Array(" -> ".utf8) + destination
                        + Array(": \(error.reason)".utf8))
        }
    }
}

/// Passes a job's output to its context as it comes.
private final class ContextOutput: OutputReceiver {
    private let context: any TaskContext
    init(_ context: any TaskContext) { self.context = context }
    func receive(_ bytes: UnsafeRawBufferPointer, from stream: TaskStream) { context.output(bytes, stream: stream) }
}

extension FileCopier {
    private static let copiers = Mutex<[CopyOptions: FileCopier]>([:])

    /// The copier of this process for `options` (it remembers which
    /// directories it already cleaned of stale temporaries).
    package static func shared(for options: CopyOptions) -> FileCopier {
        copiers.withLock { copiers in
            if let copier = copiers[options] { return copier }
            let copier = FileCopier(options: options)
            copiers[options] = copier
            return copier
        }
    }
}

/// Feeds a job's stdin from a thread of its own (the job's output is read
/// meanwhile). The thread is started before the job, which then hands it
/// the pipe, so a thread that cannot be had fails the attempt before the
/// job runs, never leaving a running job without its input. A job that
/// exits without reading is not an error by itself: EPIPE ends the feed
/// quietly and the job's exit status decides.
/// @unchecked Sendable: `fd` is behind `lock`.
private final class StdinFeeder: @unchecked Sendable {
    private let lock = ConditionLock()
    private var fd: Int32?

    static func start(_ input: JobInput) throws(ThreadStartError) -> StdinFeeder {
        let feeder = StdinFeeder()
        try WorkerThread.detach(name: "stdin-feed") {
            let fd = feeder.lock.withLock {
                while feeder.fd == nil { feeder.lock.wait() }
                return feeder.fd!
            }
            if fd >= 0 { input.write(to: fd) }
        }
        return feeder
    }

    /// Gives the thread the job's stdin, or -1: nothing to feed.
    func hand(_ fd: Int32) {
        lock.withLock {
            self.fd = fd
            lock.broadcast()
        }
    }
}
