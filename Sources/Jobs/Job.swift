// What a job is: one value, built once from its records (a process to run,
// a copy pair, or records that cannot become a job), with the settings it
// runs under. Every pool runs it the same way: `run(in:)` is `attempt`.
import ProcessPool

/// What one job does.
package enum JobAction: Sendable, Equatable {
    /// Start a process.
    case process(Invocation)
    /// Copy a file inside the worker.
    case copy(source: [UInt8], destination: [UInt8])
    /// The records cannot become a job; `reason` says why (it fails as "could not start").
    case invalid(command: [UInt8], reason: String)
}

/// How every job of a run runs.
package struct JobSettings: Sendable, Equatable {
    /// The shell for command and shell-template jobs.
    package var shell: [UInt8] = Array("/bin/sh".utf8)
    /// A job running longer is stopped with the kill sequence.
    package var timeout: Duration?
    /// Time between SIGTERM and SIGKILL when a job is stopped.
    package var killAfter: Duration = .seconds(2)
    /// Output goes to the observer; false (`-u`) lets a job in pfutures'
    /// own process write straight to its stdout and stderr.
    package var captureOutput = true
    /// The job reads pfutures' stdin (records came from `-a`), when it runs
    /// in pfutures' own process; elsewhere it reads /dev/null.
    package var inheritStdin = false
    /// How copy jobs copy.
    package var copy = CopyOptions()
    /// Where command jobs run: --workdir and --env, for jobs on other hosts.
    package var placement = JobPlacement()

    package init() {}
}

/// Where a command job runs, wherever its worker is: the variables it gets
/// (--env, `NAME=VALUE` taken from pfutures' environment) and its directory.
package struct JobPlacement: Sendable, Equatable {
    package var environment: [[UInt8]] = []
    package var workdir: [UInt8]?
    package init() {}
}

/// How one attempt at a job ended, as the worker saw it.
package struct JobResult: Sendable, Equatable {
    package var outcome: JobOutcome
    /// Wall-clock start, seconds since the epoch.
    package var startedAt: Double
    /// Seconds from start to end.
    package var runtime: Double
    /// Bytes a copy job copied.
    package var bytesCopied: Int
    /// What to tell the user on stderr, after "pfutures: " (a command not
    /// found, a failed copy pair, a record that cannot be a job).
    package var message: [UInt8]?

    package init(outcome: JobOutcome, startedAt: Double, runtime: Double, bytesCopied: Int = 0, message: [UInt8]? = nil) {
        self.outcome = outcome
        self.startedAt = startedAt
        self.runtime = runtime
        self.bytesCopied = bytesCopied
        self.message = message
    }
}

/// One job of a run: the task both pools run.
package struct Job: PoolTask, Equatable {
    /// Its 1-based sequence number ({#}, PFUTURES_SEQ).
    package var sequence: Int
    package var action: JobAction
    package var settings: JobSettings
    /// --pipe: what the job reads on its stdin.
    package var input: JobInput?

    package init(sequence: Int, action: JobAction, settings: JobSettings, input: JobInput? = nil) {
        self.sequence = sequence
        self.action = action
        self.settings = settings
        self.input = input
    }

    package static var taskName: String { "job" }
    /// A job announces its start itself, with its process's pid.
    package static var reportsOwnStart: Bool { true }

    /// Runs one attempt (see `attempt(in:)`); never throws: every end is a `JobResult`.
    package func run(in context: any TaskContext) -> JobResult { attempt(in: context) }

    /// A job that did not succeed may stop the run (--halt, exit 255), so
    /// the job queued behind it waits for the run's word.
    package static func asksBeforeNextTask(after output: JobResult) -> Bool { !output.outcome.succeeded }

    /// How the job is shown: `-t`, `--dry-run`, the job log's Command.
    package var command: [UInt8] {
        switch action {
        case .process(let invocation): invocation.displayText
        case .copy(let source, let destination): Invocation.exec(argv: [Array("copy".utf8), source, destination]).displayText
        case .invalid(let command, _): command
        }
    }
}

/// A worker's `--initializer`: a shell command that must exit 0.
package struct InitializerJob: PoolTask, Equatable {
    package var command: [UInt8]
    package var shell: [UInt8]

    package init(command: [UInt8], shell: [UInt8]) {
        self.command = command
        self.shell = shell
    }

    package static var taskName: String { "initializer" }

    /// Runs the command (see `perform`).
    package func run(in context: any TaskContext) throws -> Int32 {
        try perform(stopSwitch: context.stopSwitch)
        return 0
    }

    /// Runs the command with its output straight to this process's stdout
    /// and stderr (in a worker process, its stderr); stops it when
    /// `stopSwitch` fires.
    /// - Throws: `InitializerFailure` unless it exits with status 0.
    package func perform(stopSwitch: StopSwitch?) throws {
        let shown = String(decoding: command, as: UTF8.self)
        let outcome: JobOutcome
        switch JobLauncher.shared.launch(.shell(script: command), shell: shell, inheritStdin: false, sequence: 0,
                                         slot: 0, capture: false) {
        case .failure(.notFound): throw InitializerFailure(description: "'\(shown)': shell not found")
        case .failure(.cannotRun(let why)), .failure(.shortOfResources(let why)):
            throw InitializerFailure(description: "'\(shown)': \(why)")
        case .success(let process):
            outcome = process.wait(receiver: nil, timeout: nil, killSequence: KillSequence(grace: .seconds(2)),
                                   stopSwitch: stopSwitch)
        }
        switch outcome {
        case .exited(0): return
        case .exited(let code): throw InitializerFailure(description: "'\(shown)' exited with status \(code)")
        case .signaled(let signal): throw InitializerFailure(description: "'\(shown)' was killed by signal \(signal)")
        case .timedOut, .spawnFailed, .lost: throw InitializerFailure(description: "'\(shown)' did not run to the end")
        }
    }
}

/// Why a worker's `--initializer` command failed.
package struct InitializerFailure: Error, CustomStringConvertible {
    package let description: String
}
