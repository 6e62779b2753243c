// Starting one job's process and watching it to the end: a poll loop over
// its output pipes, its pidfd (exit), the run's stop switch and its timeout,
// walking the kill sequence when asked to stop. Reaps the child always.
import ProcessPool
import CSpawn
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a job's output pipes feed; nil pipes mean the job writes straight
/// to pfutures' own stdout and stderr.
package protocol OutputReceiver: AnyObject {
    func receive(_ bytes: UnsafeRawBufferPointer, from stream: TaskStream)
}

/// Spawns jobs: resolves programs, builds argv and environment, and sets up
/// each child in its own process group with a parent-death signal. One per
/// process (`shared`): PATH and the environment are read once.
package final class JobLauncher: Sendable {
    private let lookup: ExecutableLookup
    private let baseEnvironment: [[UInt8]]
    private let devNull: Int32

    /// The launcher of this process.
    package static let shared = JobLauncher()

    private init() {
        let environment = currentEnvironment()
        let pathValue = environment.first { $0.starts(with: Array("PATH=".utf8)) }.map { Array($0.dropFirst(5)) }
        self.lookup = ExecutableLookup(path: pathValue)
        self.baseEnvironment = environment.filter {
            !$0.starts(with: Array("PFUTURES_SEQ=".utf8)) && !$0.starts(with: Array("PFUTURES_SLOT=".utf8))
        }
        self.devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    /// $HOME, for a relative --workdir.
    private var homeDirectory: [UInt8] {
        baseEnvironment.first { $0.starts(with: Array("HOME=".utf8)) }.map { Array($0.dropFirst(5)) } ?? [0x2F]
    }

    /// A system call's failure as a spawn failure: shortage or not.
    private static func failure(_ call: String?, _ code: Int32) -> SpawnFailure {
        let text = (call.map { "\($0): " } ?? "") + errnoText(code)
        return [EMFILE, ENFILE, EAGAIN, ENOMEM].contains(code) ? .shortOfResources(text) : .cannotRun(text)
    }

    /// Whether `program` names something this process could execute.
    package func canRun(_ program: [UInt8]) -> Bool { path(of: program) != nil }

    /// The path `program` is executed from (PATH searched), or nil.
    package func path(of program: [UInt8]) -> [UInt8]? {
        if case .success(let path) = lookup.resolve(program) { return path }
        return nil
    }

    /// Starts `invocation` as job `sequence` in worker `slot`.
    /// - Parameters:
    ///   - shell: the shell for `.shell` invocations.
    ///   - inheritStdin: the job reads this process's stdin instead of /dev/null.
    ///   - capture: whether stdout and stderr go to pipes.
    ///   - placement: --env variables and --workdir.
    ///   - feedsStdin: the job reads a pipe whose writing end the process
    ///     hands out (`takeStdin`), for --pipe blocks.
    package func launch(_ invocation: Invocation, shell: [UInt8], inheritStdin: Bool, sequence: Int, slot: Int,
                        capture: Bool, placement: JobPlacement = JobPlacement(),
                        feedsStdin: Bool = false) -> Result<JobProcess, SpawnFailure> {
        let argv: [[UInt8]]
        switch invocation {
        case .exec(let words): argv = words
        case .shell(let script): argv = [shell, Array("-c".utf8), script]
        }
        guard let program = argv.first else { return .failure(.notFound) }
        if argv.contains(where: { $0.contains(0) }) {
            return .failure(.cannotRun("the record contains a NUL byte (use -0 for NUL-separated input)"))
        }
        let path: [UInt8]
        switch lookup.resolve(program) {
        case .success(let found): path = found
        case .failure(let failure): return .failure(failure)
        }
        // A relative --workdir is beneath the home directory of wherever the job runs.
        let workdir = placement.workdir.map { $0.first == 0x2F ? $0 : homeDirectory + [0x2F] + $0 }
        if let directory = workdir {
            var info = stat()
            let found = withCString(directory) { stat($0, &info) } == 0
            guard found && (info.st_mode & S_IFMT) == S_IFDIR else {
                let why = found ? "not a directory" : errnoText(errno)
                return .failure(.cannotRun("--workdir \(String(decoding: directory, as: UTF8.self)): \(why)"))
            }
        }
        var environment = baseEnvironment
        if !placement.environment.isEmpty {
            // getenv takes the first entry of a name: replace, never shadow.
            let names = Set(placement.environment.map { Array($0.prefix { $0 != 0x3D }) })
            environment.removeAll { names.contains(Array($0.prefix { $0 != 0x3D })) }
            environment += placement.environment
        }
        environment += [Array("PFUTURES_SEQ=\(sequence)".utf8), Array("PFUTURES_SLOT=\(slot)".utf8)]

        // From here the job holds descriptors (and soon a process) until its JobProcess ends.
        JobProcess.holding.add(1, ordering: .relaxed)
        var launched = false
        defer { if !launched { JobProcess.holding.subtract(1, ordering: .relaxed) } }
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1], inPipe: [Int32] = [-1, -1]
        if feedsStdin {
            let made = pf_pipe(&inPipe)
            if made != 0 { return .failure(Self.failure("pipe", -made)) }
        }
        if capture {
            let made = pf_pipe(&outPipe)
            let madeToo = made == 0 ? pf_pipe(&errPipe) : made
            if made != 0 || madeToo != 0 {
                if made == 0 { close(outPipe[0]); close(outPipe[1]) }
                if feedsStdin { close(inPipe[0]); close(inPipe[1]) }
                return .failure(Self.failure("pipe", -(made != 0 ? made : madeToo)))
            }
        }
        let stdin = feedsStdin ? inPipe[0] : inheritStdin ? -1 : devNull
        if feedsStdin {
            // A --pipe job takes a whole block: a 1 MiB pipe instead of
            // 64 KiB cuts the context switches ~16-fold. (Only this one: the
            // kernel caps a user's pipe memory, and -j32 would reach it.)
            _ = fcntl(inPipe[1], fcntlSetPipeSize, Int32(1 << 20))
        }
        let pid = spawnChild(path: path, argv: argv, environment: environment,
                             stdio: ChildStdio(stdin: stdin, stdout: outPipe[1], stderr: errPipe[1]),
                             deathSignal: SIGKILL, directory: workdir)
        if capture { close(outPipe[1]); close(errPipe[1]) }
        if feedsStdin { close(inPipe[0]) }
        guard pid > 0 else {
            if capture { close(outPipe[0]); close(errPipe[0]) }
            if feedsStdin { close(inPipe[1]) }
            let code = -pid
            return .failure(code == ENOENT ? .notFound : Self.failure(nil, code))
        }
        launched = true
        return .success(JobProcess(pid: pid, stdoutFD: capture ? outPipe[0] : -1, stderrFD: capture ? errPipe[0] : -1,
                                   stdinFD: feedsStdin ? inPipe[1] : -1))
    }
}

/// A started job: its pid (also its process group) and its output pipes.
package final class JobProcess {
    /// Jobs of this process holding descriptors and a process: being
    /// launched, or launched and not yet let go of. When a launch finds none
    /// left, a job holding some may give them back; with none, none will.
    package static let holding = Atomic<Int>(0)

    package let pid: pid_t
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private let pidFD: Int32
    private var stdinFD: Int32

    init(pid: pid_t, stdoutFD: Int32, stderrFD: Int32, stdinFD: Int32 = -1) {
        self.pid = pid
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
        self.stdinFD = stdinFD
        self.pidFD = pf_pidfd_open(pid)
    }

    /// The writing end of the job's stdin pipe (launched with `feedsStdin`),
    /// now the caller's to write and close; -1 when there is none.
    package func takeStdin() -> Int32 {
        defer { stdinFD = -1 }
        return stdinFD
    }

    deinit {
        if stdoutFD >= 0 { close(stdoutFD) }
        if stderrFD >= 0 { close(stderrFD) }
        if pidFD >= 0 { close(pidFD) }
        if stdinFD >= 0 { close(stdinFD) }
        JobProcess.holding.subtract(1, ordering: .relaxed)
    }

    /// Feeds the job's output to `receiver` until the job exits, stopping it
    /// with `killSequence` when `timeout` passes or `stopSwitch` fires, then
    /// reaps it. A background grandchild that keeps a pipe open does not
    /// delay the result: only output present when the job exits is read.
    package func wait(receiver: OutputReceiver?, timeout: Duration?, killSequence: KillSequence,
                     stopSwitch: StopSwitch?) -> JobOutcome {
        let timeoutAt = timeout.map { ContinuousClock.now.advanced(by: $0) }
        var stopStep: Int?               // index of the next kill step once stopping
        var stepAt: ContinuousClock.Instant?
        var timedOut = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }

        func beginOrAdvanceStop() {
            var index = stopStep ?? 0
            stepAt = nil
            while index < killSequence.steps.count {
                switch killSequence.steps[index] {
                case .signal(let signal): kill(-pid, signal)
                case .allow(let grace): stepAt = ContinuousClock.now.advanced(by: grace)
                }
                index += 1
                if stepAt != nil { break }
            }
            stopStep = index
        }

        while pidFD >= 0 {
            var fds: [pollfd] = [pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)]
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            if let stopSwitch, stopStep == nil { fds.append(pollfd(fd: stopSwitch.fd, events: Int16(POLLIN), revents: 0)) }
            let wakeAt = stopStep == nil ? timeoutAt : stepAt
            let rc = poll(&fds, nfds_t(fds.count), milliseconds(until: wakeAt))
            if rc < 0 && errno != EINTR { break }
            for entry in fds.dropFirst() where entry.revents != 0 {
                if entry.fd == stopSwitch?.fd { beginOrAdvanceStop(); continue }
                drainOnce(entry.fd, into: buffer, receiver: receiver)
            }
            if fds[0].revents != 0 { break }
            if stopStep == nil, let timeoutAt, ContinuousClock.now >= timeoutAt {
                timedOut = true
                beginOrAdvanceStop()
            } else if let at = stepAt, ContinuousClock.now >= at {
                beginOrAdvanceStop()
            }
        }
        let status = reap()
        if stopStep != nil { kill(-pid, SIGKILL) }  // what is left of the group goes too
        drainAvailable(into: buffer, receiver: receiver)
        if timedOut { return .timedOut }
        var code: Int32 = 0
        switch pf_decode_status(status, &code) {
        case 1: return .exited(code)
        case 2: return .signaled(code)
        default: return .exited(status)
        }
    }

    private func reap() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// One read from a ready pipe; closes it at end of file.
    private func drainOnce(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, receiver: OutputReceiver?) {
        let n = readSome(fd, into: buffer)
        if n > 0 {
            receiver?.receive(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), from: fd == stdoutFD ? .stdout : .stderr)
        } else {
            close(fd)
            if fd == stdoutFD { stdoutFD = -1 } else { stderrFD = -1 }
        }
    }

    /// After the exit: read whatever the pipes hold now, without waiting for
    /// writers that may live on.
    private func drainAvailable(into buffer: UnsafeMutableRawBufferPointer, receiver: OutputReceiver?) {
        while stdoutFD >= 0 || stderrFD >= 0 {
            var fds: [pollfd] = []
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), 0) <= 0 { break }
            for entry in fds where entry.revents != 0 { drainOnce(entry.fd, into: buffer, receiver: receiver) }
        }
    }
}

private func milliseconds(until instant: ContinuousClock.Instant?) -> Int32 {
    guard let instant else { return -1 }
    let left = ContinuousClock.now.duration(to: instant)
    if left <= .zero { return 0 }
    let (seconds, attoseconds) = left.components
    return Int32(min(Int64(Int32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1))
}
