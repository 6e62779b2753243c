// asCompleted(): finished first, each once, in completion order, timeout.
import Futures
import Testing

@Suite struct AsCompletedTests {
    @Test func yieldsAlreadyDoneFirstThenInCompletionOrder() throws {
        let executor = ThreadPoolExecutor(maxWorkers: 2)
        defer { executor.shutdown() }
        let done = Future<Int>()
        try done.setResult(0)
        let gateA = Gate(), gateB = Gate()
        let a = try executor.submit { gateA.wait(); return 1 }
        let b = try executor.submit { gateB.wait(); return 2 }
        let iterator = asCompleted([a, b, done, done], timeout: .seconds(30))
        #expect(try iterator.next() == done)
        gateB.open()
        #expect(try iterator.next() == b)
        gateA.open()
        #expect(try iterator.next() == a)
        #expect(try iterator.next() == nil, "each future once, duplicates collapsed")
    }

    @Test func timeoutNamesHowManyAreUnfinished() throws {
        let a = Future<Int>(), b = Future<Int>()
        let done = Future<Int>()
        try done.setResult(1)
        let iterator = asCompleted([a, b, done], timeout: .milliseconds(30))
        #expect(try iterator.next() == done)
        #expect(throws: TimeoutError(unfinished: 2)) { try iterator.next() }
    }

    @Test func cancelledFuturesAreYielded() throws {
        let a = Future<Int>()
        let iterator = asCompleted([a], timeout: .seconds(30))
        a.cancel()
        #expect(try iterator.collect() == [a])
    }
}
