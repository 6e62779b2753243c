// What the machine says about starting another job now: the 1-minute load
// average and the memory available (for --load and --memfree).
#if canImport(Glibc)
import Glibc
#endif

package enum MachineLoad {
    /// The 1-minute load average, or nil if unknown.
    package static func oneMinuteAverage() -> Double? {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) >= 1 ? loads[0] : nil
    }

    /// MemAvailable from /proc/meminfo, in bytes, or nil if unknown.
    package static func availableMemory() -> Int? { memInfo("MemAvailable:") }

    /// The machine's memory in bytes (MemTotal), if it can be read.
    package static func totalMemory() -> Int? { memInfo("MemTotal:") }

    private static func memInfo(_ key: String) -> Int? {
        let fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let reader = RecordReader(fd: fd, format: .lines)
        while let line = reader.next() {
            guard line.starts(with: Array(key.utf8)) else { continue }
            let digits = line.drop { $0 < 0x30 || $0 > 0x39 }.prefix { $0 >= 0x30 && $0 <= 0x39 }
            return Int(String(decoding: digits, as: UTF8.self)).map { $0 * 1024 }
        }
        return nil
    }
}

/// When a failed job runs again (--retries, --retry-on, --retry-delay).
package struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, as GNU parallel counts them (`--retries 3`: the
    /// first run and up to two more; 0 and 1 both mean no retry).
    package var retries: Int
    /// Only these exit statuses are retried; nil: every failure.
    package var exitCodes: Set<Int32>?
    /// The wait before the first retry; doubled before each later one.
    package var delay: Duration

    package init(retries: Int = 0, exitCodes: Set<Int32>? = nil, delay: Duration = .zero) {
        self.retries = retries
        self.exitCodes = exitCodes
        self.delay = delay
    }

    /// Whether attempt number `attempt` (1-based) ending in `outcome` is retried.
    package func shouldRetry(_ outcome: JobOutcome, attempt: Int) -> Bool {
        guard !outcome.succeeded, attempt < retries else { return false }
        guard let exitCodes else { return true }
        if case .exited(let code) = outcome { return exitCodes.contains(code) }
        return false
    }

    /// The wait before attempt `attempt + 1`: delay, 2×delay, 4×delay, ...
    package func wait(after attempt: Int) -> Duration {
        delay * (1 << min(attempt - 1, 30))
    }
}
