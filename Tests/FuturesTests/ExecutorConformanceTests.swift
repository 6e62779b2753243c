// The Executor contract, stamped out for every executor kind (threads and
// worker processes): submit, map, shutdown. Work is described as `Work`
// values and synchronised through files, which both kinds can see.
import Futures
import TaskFixtures
import Testing

@Suite struct ExecutorConformanceTests {
    @Test(arguments: ExecutorKind.allCases)
    func submitReturnsTheResultOrTheError(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 2)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        #expect(try executor.submit(.value(42)).result(timeout: .seconds(60)) == 42)
        let failing = try executor.submit(.fail(4))
        #expect((try? failing.exception(timeout: .seconds(60))) != nil)
        #expect(throws: (any Error).self) { try failing.result(timeout: .seconds(60)) }
    }

    @Test(arguments: ExecutorKind.allCases)
    func neverRunsMoreThanMaxWorkersAtOnce(kind: ExecutorKind) throws {
        let scratch = Scratch()
        let executor = kind.make(maxWorkers: 3)
        let futures = try (0..<24).map { i in
            try executor.submit(.step(i, log: scratch.file("log"), create: nil, waitFor: nil))
        }
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(futures.allSatisfy { $0.isDone })
        #expect(scratch.lines("log").count == 48)
        #expect(scratch.peakOverlap("log") <= 3)
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapReturnsResultsInInputOrder(kind: ExecutorKind) throws {
        let scratch = Scratch()
        let executor = kind.make(maxWorkers: 4)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        // The first item finishes last: it waits for the file the last one makes.
        let works: [Work] = (0..<8).map { i in
            .step(i, log: nil, create: i == 7 ? scratch.file("last") : nil, waitFor: i == 0 ? scratch.file("last") : nil)
        }
        #expect(try executor.map(works, timeout: .seconds(60), buffersize: nil).collect() == Array(0..<8))
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapThrowsWhenItsFailingItemIsReached(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 2)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        let iterator = try executor.map([Work.value(1), .value(2), .fail(3), .value(4)], timeout: .seconds(60), buffersize: nil)
        #expect(try iterator.next() == 1)
        #expect(try iterator.next() == 2)
        #expect(throws: (any Error).self) { try iterator.next() }
        #expect(try iterator.next() == nil, "the iterator ends after an error")
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapTimeoutCountsFromTheCall(kind: ExecutorKind) throws {
        let scratch = Scratch()
        let executor = kind.make(maxWorkers: 2)
        defer {
            scratch.create("release")
            executor.shutdown(wait: true, cancelFutures: true)
        }
        let held = Work.step(1, log: nil, create: nil, waitFor: scratch.file("release"))
        let iterator = try executor.map([held, held], timeout: .milliseconds(100), buffersize: nil)
        #expect(throws: TimeoutError.self) { try iterator.next() }
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapStartsTheWorkAtTheCall(kind: ExecutorKind) throws {
        let scratch = Scratch()
        let executor = kind.make(maxWorkers: 2)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        let iterator = try executor.map([Work.step(0, log: nil, create: scratch.file("started"), waitFor: nil)],
                                        timeout: .seconds(60), buffersize: nil)
        #expect(scratch.waitFor("started"), "the item must run before the first next()")
        #expect(try iterator.next() == 0)
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapTimeoutCancelsTheAwaitedItemAndTheRest(kind: ExecutorKind) throws {
        let scratch = Scratch()
        let executor = kind.make(maxWorkers: 1)
        // The only worker is held, so every item of the map is still queued.
        let blocker = try executor.submit(.step(0, log: nil, create: scratch.file("held"), waitFor: scratch.file("release")))
        #expect(scratch.waitFor("held"))
        let works = (1...3).map { Work.step($0, log: scratch.file("ran"), create: nil, waitFor: nil) }
        let iterator = try executor.map(works, timeout: .milliseconds(100), buffersize: nil)
        #expect(throws: TimeoutError.self) { try iterator.next() }
        #expect(try iterator.next() == nil)
        scratch.create("release")
        #expect(try blocker.result(timeout: .seconds(60)) == 0)
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(scratch.lines("ran").isEmpty, "no item may run after the map timed out")
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapIsAnAsyncSequenceInInputOrder(kind: ExecutorKind) async throws {
        let scratch = Scratch()
        let executor = kind.make(maxWorkers: 3)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        let works: [Work] = (0..<6).map { i in
            .step(i, log: nil, create: i == 5 ? scratch.file("last") : nil, waitFor: i == 0 ? scratch.file("last") : nil)
        }
        var results: [Int] = []
        for try await value in try executor.map(works, timeout: .seconds(60), buffersize: nil) { results.append(value) }
        #expect(results == Array(0..<6))
    }

    @Test(arguments: ExecutorKind.allCases)
    func droppingTheMapIteratorCancelsPendingWork(kind: ExecutorKind) throws {
        let scratch = Scratch()
        let executor = kind.make(maxWorkers: 1)
        do {
            let works: [Work] = (0..<10).map { i in
                .step(i, log: scratch.file("ran"), create: i == 1 ? scratch.file("second") : nil,
                      waitFor: i == 1 ? scratch.file("release") : nil)
            }
            let iterator = try executor.map(works, timeout: .seconds(60), buffersize: 10)
            #expect(try iterator.next() == 0)
            #expect(scratch.waitFor("second"))  // item 1 holds the only worker; 2...9 are queued
        }
        scratch.create("release")
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(scratch.lines("ran").filter { $0.hasPrefix("start") }.count == 2,
                "work still queued when the iterator was dropped must not run")
    }

    @Test(arguments: ExecutorKind.allCases)
    func mapOverAnEndlessSequenceKeepsABoundedBacklog(kind: ExecutorKind) throws {
        let scratch = Scratch()
        let executor = kind.make(maxWorkers: 2)
        let log = scratch.file("ran")
        let naturals = (0...).lazy.map { Work.step($0, log: log, create: nil, waitFor: nil) }
        let iterator = try executor.map(naturals, timeout: .seconds(120), buffersize: 5)
        for expected in 0..<60 { #expect(try iterator.next() == expected) }
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(scratch.lines("ran").filter { $0.hasPrefix("start") }.count <= 60 + 5,
                "no more than the buffer ran ahead of the consumer")
    }

    @Test(arguments: ExecutorKind.allCases)
    func shutdownWaitsForRunningWork(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 2)
        let futures = try (0..<6).map { try executor.submit(.value($0)) }
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(futures.allSatisfy { $0.isDone && !$0.isCancelled })
    }

    @Test(arguments: ExecutorKind.allCases)
    func shutdownCancelFuturesCancelsOnlyPendingWork(kind: ExecutorKind) throws {
        let scratch = Scratch()
        let executor = kind.make(maxWorkers: 1)
        let running = try executor.submit(.step(1, log: nil, create: scratch.file("started"), waitFor: scratch.file("release")))
        let queued = try (0..<5).map { try executor.submit(.value($0)) }
        #expect(scratch.waitFor("started"))
        executor.shutdown(wait: false, cancelFutures: true)
        #expect(queued.allSatisfy { $0.isCancelled })
        scratch.create("release")
        #expect(try running.result(timeout: .seconds(60)) == 1)
        executor.shutdown(wait: true, cancelFutures: false)
    }

    @Test(arguments: ExecutorKind.allCases)
    func submitAfterShutdownThrows(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 1)
        executor.shutdown(wait: true, cancelFutures: false)
        #expect(throws: ExecutorShutdownError.self) { _ = try executor.submit(.value(1)) }
    }

    @Test(arguments: ExecutorKind.allCases)
    func failingCallbackLeavesExecutorWorking(kind: ExecutorKind) throws {
        let executor = kind.make(maxWorkers: 1)
        defer { executor.shutdown(wait: true, cancelFutures: false) }
        let first = try executor.submit(.value(1))
        first.addDoneCallback { _ in throw TestError(code: 2) }
        #expect(try first.result(timeout: .seconds(60)) == 1)
        #expect(try executor.submit(.value(2)).result(timeout: .seconds(60)) == 2)
    }
}
