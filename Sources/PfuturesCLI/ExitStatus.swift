// The exit statuses of pfutures (SPEC §2.7) and which one wins: one table.
import Jobs

/// Statuses, xargs-compatible, with pfutures' own for a deadline.
enum ExitStatus {
    static let success: Int32 = 0
    static let usage: Int32 = 1
    static let deadline: Int32 = 122
    static let jobFailed: Int32 = 123
    static let job255: Int32 = 124
    static let jobKilled: Int32 = 125
    static let cannotRun: Int32 = 126
    static let notFound: Int32 = 127

    /// The status a single job's outcome contributes.
    static func of(_ outcome: JobOutcome) -> Int32 {
        switch outcome {
        case .exited(0): return success
        case .exited(255): return job255
        case .exited: return jobFailed
        case .signaled, .timedOut: return jobKilled
        case .spawnFailed(.notFound): return notFound
        case .spawnFailed(.cannotRun), .spawnFailed(.shortOfResources): return cannotRun
        case .lost: return usage  // a broken pool is pfutures' own failure
        }
    }

    /// When several statuses apply, the one earliest in this list wins:
    /// stopped by a signal (128+N, 141 for a closed stdout), deadline, pfutures'
    /// own failure, then job statuses from the most to the least severe.
    static let precedence: [Int32] = [deadline, usage, job255, jobKilled, notFound, cannotRun, jobFailed, success]

    /// The winner of `statuses` by `precedence` (signal statuses first).
    static func combine(_ statuses: some Sequence<Int32>) -> Int32 {
        var best = success
        for status in statuses where rank(status) < rank(best) { best = status }
        return best
    }

    private static func rank(_ status: Int32) -> Int {
        if status > 128 { return -1 }
        return precedence.firstIndex(of: status) ?? precedence.count
    }
}
