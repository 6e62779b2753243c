// Helpers shared by the Futures suites: the executor kinds that the
// conformance suite runs against, and a gate for sequencing threads.
import Dispatch
import Foundation
import Futures
import TaskFixtures
#if canImport(Glibc)
import Glibc
#endif

struct TestError: Error, Equatable { let code: Int }

/// Every executor kind; the conformance suite is stamped out for each.
enum ExecutorKind: String, CaseIterable, CustomTestStringConvertible {
    case threadPool
    case processPool
    var testDescription: String { rawValue }

    /// The pool, behind the task protocol both share: the thread pool runs
    /// `WorkTask`s in its threads, the process pool (the one pfutures
    /// ships) in worker processes.
    func make(maxWorkers: Int) -> ConformanceSubject {
        switch self {
        case .threadPool: ConformanceSubject(executor: ThreadPoolExecutor(maxWorkers: maxWorkers))
        case .processPool: ConformanceSubject(executor: ProcessPoolExecutor(maxWorkers: maxWorkers, executable: workerProgram))
        }
    }
}

/// The worker program the process pool starts (built beside the tests).
let workerProgram = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("task-worker")

/// An executor seen through `TaskExecutor` only, with work described as
/// data (`Work`), so one test runs on threads and in worker processes alike.
struct ConformanceSubject: Sendable {
    let executor: any TaskExecutor
    func submit(_ work: Work) throws -> Future<Int> { try executor.submit(WorkTask(work)) }
    func map(_ works: some Sequence<Work>, timeout: Duration?, buffersize: Int?) throws -> MapIterator<Int> {
        try executor.map(works.lazy.map(WorkTask.init), timeout: timeout, buffersize: buffersize)
    }
    func shutdown(wait: Bool, cancelFutures: Bool) { executor.shutdown(wait: wait, cancelFutures: cancelFutures) }
}

/// A scratch directory for file-based gates and logs; removed on deinit.
final class Scratch: @unchecked Sendable {  // immutable after init
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("pf-futures-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    func create(_ name: String) { _ = FileManager.default.createFile(atPath: file(name), contents: nil) }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }
    func lines(_ name: String) -> [String] {
        ((try? String(contentsOfFile: file(name), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
    /// Waits (generously) for a file that a worker creates.
    func waitFor(_ name: String) -> Bool {
        for _ in 0..<3000 where !exists(name) { usleep(10_000) }
        return exists(name)
    }
    /// The most "start"s without their "end" at any point of a log.
    func peakOverlap(_ name: String) -> Int {
        var current = 0, peak = 0
        for line in lines(name) {
            if line.hasPrefix("start") { current += 1; peak = max(peak, current) } else { current -= 1 }
        }
        return peak
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
