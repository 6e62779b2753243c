// The Executor contract, stamped out for every executor kind: submit, map,
// shutdown, and no deadlock when work waits on other work.
import Futures
import Testing

@Suite struct ExecutorConformanceTests {
    @Test(arguments: ExecutorKind.allCases)
    func submitReturnsTheResultOrTheError(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 2)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        #expect(try executor.submit { 6 * 7 }.result(timeout: .seconds(30)) == 42)
        let failing = try executor.submit { () throws -> Int in throw TestError(code: 4) }
        #expect(throws: TestError(code: 4)) { try failing.result(timeout: .seconds(30)) }
    }

    @Test(arguments: ExecutorKind.allCases)
    func neverRunsMoreThanMaxWorkersAtOnce(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 3)
        let gauge = Gauge()
        let futures = try (0..<40).map { _ in
            try executor.submit { gauge.enter(); for _ in 0..<2000 { _ = gauge.peak }; gauge.leave() }
        }
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(futures.allSatisfy { $0.isDone })
        #expect(gauge.count == 40)
        #expect(gauge.peak <= 3)
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapReturnsResultsInInputOrder(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 4)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        // Later items finish first: the first waits for the last to start.
        let lastStarted = Gate()
        let results = try executor.map(Array(0..<8), timeout: .seconds(30)) { i -> Int in
            if i == 0 { _ = lastStarted.wait(seconds: 10) }
            if i == 7 { lastStarted.open() }
            return i * i
        }.collect()
        #expect(results == (0..<8).map { $0 * $0 })
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapThrowsWhenItsFailingItemIsReached(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 2)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        let iterator = executor.map([1, 2, 3, 4]) { i -> Int in
            if i == 3 { throw TestError(code: i) }
            return i
        }
        #expect(try iterator.next() == 1)
        #expect(try iterator.next() == 2)
        #expect(throws: TestError(code: 3)) { try iterator.next() }
        #expect(try iterator.next() == nil, "the iterator ends after an error")
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapTimeoutCountsFromTheCall(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 2)
        let gate = Gate()
        defer { gate.open(); executor.shutdown(wait: true, cancelFutures: true) }
        let iterator = executor.map([1, 2], timeout: .milliseconds(50)) { i -> Int in gate.wait(); return i }
        #expect(throws: TimeoutError.self) { try iterator.next() }
    }

    @Test(arguments: ExecutorKind.allCases)
    func droppingTheMapIteratorCancelsPendingWork(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 1)
        let gauge = Gauge()
        let secondStarted = Gate(), releaseSecond = Gate()
        do {
            let iterator = executor.map(Array(0..<10), buffersize: 10) { i -> Int in
                gauge.enter()
                if i == 1 { secondStarted.open(); releaseSecond.wait() }
                return i
            }
            #expect(try iterator.next() == 0)
            secondStarted.wait()  // item 1 holds the only worker; 2...9 are queued
        }
        releaseSecond.open()
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(gauge.count == 2, "work still queued when the iterator was dropped must not run")
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapOverAnEndlessSequenceKeepsABoundedBacklog(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 2)
        defer { executor.shutdown(wait: true, cancelFutures: true) }
        let gauge = Gauge()
        let naturals = sequence(first: 0) { $0 + 1 }
        let iterator = executor.map(naturals, buffersize: 5) { i -> Int in gauge.enter(); return i }
        for expected in 0..<100 { #expect(try iterator.next() == expected) }
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(gauge.count <= 100 + 5, "no more than the buffer ran ahead of the consumer")
    }

    @Test(arguments: ExecutorKind.allCases)
    func shutdownWaitsForRunningWork(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 2)
        let futures = try (0..<6).map { i in try executor.submit { (0..<10_000).reduce(i, +) } }
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(futures.allSatisfy { $0.isDone && !$0.isCancelled })
    }

    @Test(arguments: ExecutorKind.allCases)
    func shutdownCancelFuturesCancelsOnlyPendingWork(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 1)
        let started = Gate(), release = Gate()
        let running = try executor.submit { started.open(); release.wait(); return 1 }
        let queued = try (0..<5).map { i in try executor.submit { i } }
        started.wait()
        executor.shutdown(wait: false, cancelFutures: true)
        #expect(queued.allSatisfy { $0.isCancelled })
        release.open()
        #expect(try running.result(timeout: .seconds(30)) == 1)
        executor.shutdown(wait: true, cancelFutures: false)
    }

    @Test(arguments: ExecutorKind.allCases)
    func submitAfterShutdownThrows(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 1)
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(throws: ExecutorShutdownError.self) { _ = try executor.submit { 1 } }
    }

    @Test(arguments: ExecutorKind.allCases)
    func workWaitingOnOtherWorkDoesNotDeadlockWithEnoughWorkers(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 2)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        let inner = Gate()
        let outer = try executor.submit { () throws -> Int in
            let innerFuture = try executor.submit { inner.wait(); return 5 }
            inner.open()
            return try innerFuture.result(timeout: .seconds(30)) + 1
        }
        #expect(try outer.result(timeout: .seconds(30)) == 6)
    }
}
