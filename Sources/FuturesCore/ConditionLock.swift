// The one blocking primitive of Futures: a pthread mutex with one condition
// variable on the monotonic clock, plus the deadline type its timed waits use.
#if canImport(Glibc)
import Glibc
#endif

/// A point on the monotonic clock, so timeouts ignore wall-clock changes.
public struct Deadline: Sendable, Comparable {
    let nanoseconds: Int64

    /// The current instant.
    public static var now: Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// `timeout` from now, or nil (no deadline) when `timeout` is nil.
    public static func after(_ timeout: Duration?) -> Deadline? {
        guard let timeout else { return nil }
        return now.advanced(by: timeout)
    }

    /// This instant moved by `duration` (saturating, so huge timeouts work).
    public func advanced(by duration: Duration) -> Deadline {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return Deadline(nanoseconds: seconds < 0 ? Int64.min / 2 : Int64.max / 2) }
        let delta = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        let sum = nanoseconds.addingReportingOverflow(delta.partialValue)
        if delta.overflow || sum.overflow { return Deadline(nanoseconds: Int64.max / 2) }
        return Deadline(nanoseconds: min(sum.partialValue, Int64.max / 2))
    }

    /// Time left until this deadline; zero or negative once it has passed.
    public var remaining: Duration { .nanoseconds(nanoseconds - Deadline.now.nanoseconds) }

    /// True once the deadline has passed.
    public var hasPassed: Bool { Deadline.now.nanoseconds >= nanoseconds }

    /// Earlier deadlines order first.
    public static func < (a: Deadline, b: Deadline) -> Bool { a.nanoseconds < b.nanoseconds }
}

extension Duration {
    /// This duration in seconds (shared with the other targets of this package).
    package var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// A mutex and a condition variable used together (shared with the other
/// targets of this package, not part of the public API).
/// @unchecked Sendable: it owns the pthread objects and they are thread-safe.
package final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    package init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }

    package func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits for a signal; the caller holds the lock. May wake spuriously.
    package func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits for a signal or the deadline; false once the deadline has passed.
    package func wait(until deadline: Deadline?) -> Bool {
        guard let deadline else { wait(); return true }
        if deadline.hasPassed { return false }
        var ts = timespec(tv_sec: Int(deadline.nanoseconds / 1_000_000_000),
                          tv_nsec: Int(deadline.nanoseconds % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &ts) != ETIMEDOUT
    }

    package func signal() { pthread_cond_signal(condition) }
    package func broadcast() { pthread_cond_broadcast(condition) }

    /// Another condition variable on this lock, for threads that must be
    /// woken apart from the others (a broadcast on one wakes none of them).
    package func makeCondition() -> Condition { Condition(lock: self, mutex: mutex) }

    /// A condition variable used with its `ConditionLock`'s mutex.
    /// @unchecked Sendable: it owns the pthread condition, which is thread-safe.
    package final class Condition: @unchecked Sendable {
        private let lock: ConditionLock  // keeps the mutex alive
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

        fileprivate init(lock: ConditionLock, mutex: UnsafeMutablePointer<pthread_mutex_t>) {
            self.lock = lock
            self.mutex = mutex
            pthread_cond_init(condition, nil)
        }

        deinit {
            pthread_cond_destroy(condition)
            condition.deallocate()
        }

        /// Waits for a signal; the caller holds the lock. May wake spuriously.
        package func wait() { pthread_cond_wait(condition, mutex) }
        package func signal() { pthread_cond_signal(condition) }
    }
}
