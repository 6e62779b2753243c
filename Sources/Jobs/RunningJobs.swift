// The process groups of the jobs running now, so a signal that reaches
// pfutures can be forwarded to every one of them.
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Running jobs' process groups.
package final class RunningJobs: Sendable {
    private struct State {
        var groups: Set<pid_t> = []
        var forwarded: Int32?   // the last signal forwarded, for late arrivals
    }
    private let state = Mutex(State())
    private let guardian: OrphanGuard?

    /// - Parameter guardian: told of every group, so none outlives pfutures.
    package init(guardian: OrphanGuard? = nil) { self.guardian = guardian }

    /// Adds a job that just started. If a signal was already forwarded to the
    /// others, it gets that signal too, so no job slips through.
    package func register(_ group: pid_t) {
        guardian?.register(group)
        let late: Int32? = state.withLock { state in
            state.groups.insert(group)
            return state.forwarded
        }
        if let late { kill(-group, late) }
    }

    /// Removes a job that has been reaped.
    package func unregister(_ group: pid_t) {
        _ = state.withLock { $0.groups.remove(group) }
        guardian?.unregister(group)
    }

    /// Ends the guard cleanly at the end of a run (it kills nothing then).
    package func finish() { guardian?.finish() }

    /// Sends `signal` to every running job's process group.
    package func forward(_ signal: Int32) {
        let groups = state.withLock { state in
            state.forwarded = signal
            return state.groups
        }
        for group in groups { kill(-group, signal) }
    }
}
