// wait(): the three return conditions and the timeout.
import Futures
import Testing

@Suite struct WaitTests {
    private func finished(_ value: Int) -> Future<Int> {
        let future = Future<Int>()
        try? future.setResult(value)
        return future
    }

    private func failed() -> Future<Int> {
        let future = Future<Int>()
        try? future.setException(TestError(code: 1))
        return future
    }

    @Test func allCompletedWaitsForEveryFuture() throws {
        let pending = Future<Int>()
        let executor = ThreadPoolExecutor(maxWorkers: 1)
        defer { executor.shutdown() }
        let gate = Gate()
        _ = try executor.submit { gate.wait(); try pending.setResult(3) }
        gate.open()
        let result = wait([finished(1), pending], timeout: .seconds(30))
        #expect(result.done.count == 2 && result.notDone.isEmpty)
    }

    @Test func firstCompletedReturnsWhenOneIsDone() {
        let pending = Future<Int>()
        let done = finished(1)
        let result = wait([pending, done], timeout: .seconds(30), returnWhen: .firstCompleted)
        #expect(result.done == [done])
        #expect(result.notDone == [pending])
    }

    @Test func firstCompletedWakesOnALaterFinish() throws {
        let pending = Future<Int>()
        let executor = ThreadPoolExecutor(maxWorkers: 1)
        defer { executor.shutdown() }
        _ = try executor.submit { try pending.setResult(1) }
        let result = wait([pending, Future<Int>()], timeout: .seconds(30), returnWhen: .firstCompleted)
        #expect(result.done == [pending])
    }

    @Test func firstExceptionReturnsOnAFailure() {
        let bad = failed()
        let pending = Future<Int>()
        let result = wait([pending, finished(1), bad], timeout: .seconds(30), returnWhen: .firstException)
        #expect(result.done.contains(bad))
        #expect(result.notDone == [pending])
    }

    @Test func firstExceptionActsAsAllCompletedWithoutFailures() {
        let result = wait([finished(1), finished(2)], returnWhen: .firstException)
        #expect(result.done.count == 2)
    }

    @Test func timeoutReturnsTheUnfinished() {
        let pending = Future<Int>()
        let result = wait([pending, finished(1)], timeout: .milliseconds(30))
        #expect(result.notDone == [pending])
        #expect(result.done.count == 1)
    }

    @Test func cancelledCountsAsDone() {
        let cancelled = Future<Int>()
        cancelled.cancel()
        let result = wait([cancelled], timeout: .seconds(30))
        #expect(result.done == [cancelled])
    }
}
