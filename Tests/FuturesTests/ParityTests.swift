// concurrent.futures parity and Swift concurrency on the thread pool: map
// lets go of results, a dropped executor ends its threads, and awaiting a
// future (or map, or asCompleted) follows the task's cancellation.
import Futures
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A result whose lifetime a test can watch through a weak reference.
final class Payload: Sendable {
    let number: Int
    init(_ number: Int) { self.number = number }
}

/// Names of this process's threads, from /proc.
func threadNames() -> [String] {
    guard let dir = opendir("/proc/self/task") else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard tid.first?.isNumber == true else { continue }
        let fd = open("/proc/self/task/\(tid)/comm", O_RDONLY)
        guard fd >= 0 else { continue }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = read(fd, &buffer, 31)
        close(fd)
        names.append(String(decoding: buffer[0..<max(0, n)], as: UTF8.self).trimmingSuffix("\n"))
    }
    return names
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

@Suite struct ParityTests {
    @Test func mapLetsGoOfEachResultOnceReturned() throws {
        let executor = ThreadPoolExecutor(maxWorkers: 2)
        defer { executor.shutdown() }
        let iterator = try executor.map(0..<100, timeout: .seconds(60)) { Payload($0) }
        weak var first: Payload?
        do {
            let value = try iterator.next()
            first = value
            #expect(first?.number == 0)
        }
        for expected in 1..<50 { #expect(try iterator.next()?.number == expected) }
        #expect(first == nil, "the iterator must not keep a result it handed out")
    }

    @Test func aDroppedExecutorRunsItsQueueThenEndsItsThreads() throws {
        let gate = Gate(), running = Gate()
        var futures: [Future<Int>] = []
        do {
            let executor = ThreadPoolExecutor(maxWorkers: 3, threadNamePrefix: "dropped")
            futures = try (0..<9).map { i in try executor.submit { running.open(count: 1); gate.wait(); return i } }
            for _ in 0..<3 { running.wait() }  // three threads, each named, each running an item
            #expect(threadNames().filter { $0.hasPrefix("dropped_") }.count == 3)
        }
        gate.open()
        #expect(try futures.map { try $0.result(timeout: .seconds(60)) } == Array(0..<9),
                "work queued before the executor was dropped still runs")
        var left = threadNames().filter { $0.hasPrefix("dropped_") }
        for _ in 0..<3000 where !left.isEmpty {
            usleep(10_000)
            left = threadNames().filter { $0.hasPrefix("dropped_") }
        }
        #expect(left.isEmpty, "threads of a dropped executor must end: \(left)")
    }

    @Test func cancellingTheAwaitingTaskCancelsAPendingFuture() async throws {
        let executor = ThreadPoolExecutor(maxWorkers: 1)
        defer { executor.shutdown() }
        let blocker = Gate(), started = Gate()
        let busy = try executor.submit { started.open(); blocker.wait() }
        started.wait()
        let ran = Gauge()
        let pending = try executor.submit { ran.enter() }
        let waiter = Task { try await pending.value }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(pending.isCancelled)
        blocker.open()
        try await busy.value
        executor.shutdown(wait: true)
        #expect(ran.count == 0, "the cancelled future's work must never run")
    }

    @Test func cancellingTheAwaitingTaskOfRunningWorkStopsOnlyTheWait() async throws {
        let executor = ThreadPoolExecutor(maxWorkers: 1)
        defer { executor.shutdown() }
        let blocker = Gate(), started = Gate()
        let running = try executor.submit { started.open(); blocker.wait(); return 7 }
        started.wait()
        let waiter = Task { try await running.value }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(!running.isCancelled)
        blocker.open()
        #expect(try await running.value == 7)
    }

    @Test func awaitingWithATimeoutLeavesTheFutureAlone() async throws {
        let executor = ThreadPoolExecutor(maxWorkers: 1)
        defer { executor.shutdown() }
        let blocker = Gate()
        let slow = try executor.submit { blocker.wait(); return 1 }
        await #expect(throws: TimeoutError.self) { try await slow.value(timeout: .milliseconds(50)) }
        #expect(!slow.isDone)
        blocker.open()
        #expect(try await slow.value(timeout: .seconds(60)) == 1)
    }

    @Test func asCompletedIsAnAsyncSequenceInCompletionOrder() async throws {
        let executor = ThreadPoolExecutor(maxWorkers: 3)
        defer { executor.shutdown() }
        // Each finishes only after the one before it in `order` was seen.
        let gates = (0..<3).map { _ in Gate() }
        let futures = try (0..<3).map { i in try executor.submit { gates[i].wait(); return i } }
        let order = [2, 0, 1]
        gates[order[0]].open()
        var seen: [Int] = []
        for try await future in asCompleted(futures, timeout: .seconds(60)) {
            seen.append(try future.result())
            if seen.count < 3 { gates[order[seen.count]].open() }
        }
        #expect(seen == order)
    }

    @Test func asyncAsCompletedTimesOutNamingTheUnfinished() async throws {
        let executor = ThreadPoolExecutor(maxWorkers: 2)
        let blocker = Gate()
        defer { blocker.open(); executor.shutdown() }
        let futures = [try executor.submit { 1 }, try executor.submit { blocker.wait(); return 2 }]
        #expect(try futures[0].result(timeout: .seconds(60)) == 1)  // done before the clock starts
        var seen: [Int] = []
        await #expect(throws: TimeoutError(unfinished: 1)) {
            for try await future in asCompleted(futures, timeout: .milliseconds(200)) { seen.append(try future.result()) }
        }
        #expect(seen == [1])
    }

    @Test func asyncMapCancelledByItsTaskCancelsTheRest() async throws {
        let executor = ThreadPoolExecutor(maxWorkers: 1)
        let blocker = Gate(), firstStarted = Gate()
        let ran = Gauge()
        let consumer = Task {
            var got: [Int] = []
            for try await value in try executor.map(0..<10, timeout: .seconds(60), { i -> Int in
                ran.enter()
                if i == 1 { firstStarted.open(); blocker.wait() }
                return i
            }) { got.append(value) }
            return got
        }
        firstStarted.wait()  // item 1 runs; 2... are queued
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
        blocker.open()
        executor.shutdown(wait: true)
        #expect(ran.count == 2, "items queued when the task was cancelled must not run")
    }
}
