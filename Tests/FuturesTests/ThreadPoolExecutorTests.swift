// What is particular to the thread pool: lazy threads, reuse of idle ones,
// thread names, the initializer and the broken pool.
import Dispatch
import Futures
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ThreadPoolExecutorTests {
    @Test func defaultWorkerCountFollowsCPython() {
        #expect(ThreadPoolExecutor().maxWorkers == min(32, processorCount + 4))
    }

    @Test func threadsStartLazilyAndIdleOnesAreReused() throws {
        let executor = ThreadPoolExecutor(maxWorkers: 8)
        defer { executor.shutdown() }
        #expect(executor.threadCount == 0)
        for i in 0..<20 { #expect(try executor.submit { i }.result(timeout: .seconds(30)) == i) }
        #expect(executor.threadCount == 1, "one job at a time needs one thread")
    }

    @Test func aDoneCallbackCancelsWhatIsQueuedBeforeItsThreadTakesMore() throws {
        // As --halt does: the first item's callback shuts the pool down,
        // cancelling what is queued, which must then never run, not even on
        // the thread that ran the first.
        let executor = ThreadPoolExecutor(maxWorkers: 1)
        defer { executor.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        let first = try executor.submit { gate.wait() }
        let rest = try (0..<3).map { i in try executor.submit { i } }
        first.addDoneCallback { _ in executor.shutdown(wait: false, cancelFutures: true) }
        gate.signal()
        try first.result(timeout: .seconds(30))
        executor.shutdown()  // joins the thread: its callback has run
        let cancelled = rest.filter { $0.isCancelled }.count
        #expect(cancelled == rest.count, "the queued items were cancelled, none ran")
    }

    @Test func threadsAreNamedWithThePrefix() throws {
        let executor = ThreadPoolExecutor(maxWorkers: 1, threadNamePrefix: "crunch")
        defer { executor.shutdown() }
        let name = try executor.submit { () -> String in
            var buffer = [CChar](repeating: 0, count: 32)
            let fd = open("/proc/thread-self/comm", O_RDONLY)
            defer { close(fd) }
            let n = read(fd, &buffer, 31)
            return String(decoding: buffer[0..<max(0, n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }.result(timeout: .seconds(30))
        #expect(name.hasPrefix("crunch_1"))
    }

    @Test func initializerRunsOncePerThreadBeforeWork() throws {
        let gauge = Gauge()
        let executor = ThreadPoolExecutor(maxWorkers: 1, initializer: { gauge.enter() })
        for i in 0..<5 { _ = try executor.submit { i }.result(timeout: .seconds(30)) }
        executor.shutdown()
        #expect(gauge.count == 1)
    }

    @Test func workWaitingOnOtherWorkDoesNotDeadlockWithEnoughWorkers() throws {
        let executor = ThreadPoolExecutor(maxWorkers: 2)
        defer { executor.shutdown() }
        let inner = Gate()
        let outer = try executor.submit { () throws -> Int in
            let innerFuture = try executor.submit { inner.wait(); return 5 }
            inner.open()
            return try innerFuture.result(timeout: .seconds(30)) + 1
        }
        #expect(try outer.result(timeout: .seconds(30)) == 6)
    }

    @Test func failingInitializerBreaksThePool() throws {
        // The initializer fails only once all three are queued.
        let queued = Gate()
        let executor = ThreadPoolExecutor(maxWorkers: 1, initializer: { queued.wait(); throw TestError(code: 8) })
        defer { executor.shutdown() }
        let futures = try (0..<3).map { i in try executor.submit { i } }
        queued.open()
        for future in futures {
            #expect(throws: BrokenThreadPool.self) { try future.result(timeout: .seconds(30)) }
        }
        #expect(throws: BrokenThreadPool.self) { _ = try executor.submit { 1 } }
    }
}
