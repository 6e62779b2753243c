// Stopping a job is data: a list of steps sent to the job's process group,
// always ending in SIGKILL. `JobProcess` walks the steps inside its poll loop.
#if canImport(Glibc)
import Glibc
#endif

/// The steps that stop a running job's whole process group.
package struct KillSequence: Sendable, Equatable {
    package enum Step: Sendable, Equatable {
        /// Send this signal to the job's process group.
        case signal(Int32)
        /// Give the job this long to exit before the next step.
        case allow(Duration)
    }

    package let steps: [Step]

    /// `first`, then `grace` to exit, then SIGKILL.
    package init(first: Int32 = SIGTERM, grace: Duration) {
        steps = first == SIGKILL ? [.signal(SIGKILL)] : [.signal(first), .allow(grace), .signal(SIGKILL)]
    }
}
