// Helpers shared by the Futures suites: the executor kinds that the
// conformance suite runs against, and a gate for sequencing threads.
import Dispatch
import Futures
#if canImport(Glibc)
import Glibc
#endif

struct TestError: Error, Equatable { let code: Int }

/// Every executor kind; the conformance suite is stamped out for each.
enum ExecutorKind: String, CaseIterable, CustomTestStringConvertible {
    case threadPool
    var testDescription: String { rawValue }

    func make(maxWorkers: Int) -> any Executor {
        switch self {
        case .threadPool: ThreadPoolExecutor(maxWorkers: maxWorkers)
        }
    }
}

/// A one-shot gate: work blocks in `wait()` until the test calls `open()`.
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func open(count: Int = 64) { for _ in 0..<count { semaphore.signal() } }
    func wait() { semaphore.wait() }
    func wait(seconds: Double) -> Bool { semaphore.wait(timeout: .now() + seconds) == .success }
}

/// A thread-safe counter that also remembers its highest value.
final class Gauge: @unchecked Sendable {  // state behind `lock`
    private let lock = DispatchSemaphore(value: 1)
    private var current = 0
    private var highest = 0
    private var total = 0
    func enter() { lock.wait(); current += 1; total += 1; highest = max(highest, current); lock.signal() }
    func leave() { lock.wait(); current -= 1; lock.signal() }
    var peak: Int { lock.wait(); defer { lock.signal() }; return highest }
    var count: Int { lock.wait(); defer { lock.signal() }; return total }
}

import Testing
