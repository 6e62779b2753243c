// How a job ended, as a value. Only infrastructure failures throw; a job
// that exits non-zero, is killed or cannot start is an outcome.

/// Why a job could not be started.
package enum SpawnFailure: Error, Sendable, Equatable {
    /// The program does not exist (exit status 127).
    case notFound
    /// The program exists but cannot be executed, or the record cannot become
    /// an argument list (exit status 126). The text says why.
    case cannotRun(String)
    /// Out of descriptors or processes (EMFILE, ENFILE, EAGAIN, ENOMEM): the
    /// run may try again with fewer jobs at once; else it counts as 126.
    case shortOfResources(String)
}

/// The end of one job.
package enum JobOutcome: Sendable, Equatable {
    /// The job exited with this status (0 is success).
    case exited(Int32)
    /// A signal ended the job (not one sent for a timeout).
    case signaled(Int32)
    /// `--timeout` passed and the job was stopped.
    case timedOut
    /// The job could not be started.
    case spawnFailed(SpawnFailure)
    /// The worker process holding the job died (BrokenProcessPool); the text says how.
    case lost(String)

    /// True only for exit status 0.
    package var succeeded: Bool { self == .exited(0) }
}
