// The Future state machine: transitions, illegal transitions, blocking reads.
import Dispatch
import Futures
import Testing

@Suite struct FutureStateTests {
    @Test func newFutureIsPending() {
        let future = Future<Int>()
        #expect(!future.isDone && !future.isRunning && !future.isCancelled)
    }

    @Test func cancelPendingSucceedsAndIsIdempotent() throws {
        let future = Future<Int>()
        #expect(future.cancel())
        #expect(future.isCancelled && future.isDone)
        #expect(future.cancel(), "cancelling a cancelled future reports true")
        #expect(try future.setRunningOrNotifyCancel() == false)
        #expect(throws: CancelledError.self) { try future.result() }
        #expect(throws: CancelledError.self) { try future.exception() }
    }

    @Test func cancelFailsOnceRunningOrFinished() throws {
        let running = Future<Int>()
        #expect(try running.setRunningOrNotifyCancel())
        #expect(running.isRunning)
        #expect(!running.cancel())
        #expect(!running.isCancelled)
        try running.setResult(7)
        #expect(!running.cancel())
        #expect(try running.result() == 7)
    }

    @Test func illegalTransitionsThrow() throws {
        let future = Future<Int>()
        #expect(try future.setRunningOrNotifyCancel())
        #expect(throws: InvalidStateError.self) { try future.setRunningOrNotifyCancel() }
        try future.setResult(1)
        #expect(throws: InvalidStateError.self) { try future.setResult(2) }
        #expect(throws: InvalidStateError.self) { try future.setException(TestError(code: 1)) }
        #expect(try future.result() == 1, "a refused transition leaves the result alone")
        let cancelled = Future<Int>()
        cancelled.cancel()
        #expect(throws: InvalidStateError.self) { try cancelled.setResult(3) }
    }

    @Test func resultThrowsTheWorksErrorAndExceptionReturnsIt() throws {
        let future = Future<Int>()
        try future.setException(TestError(code: 9))
        #expect(throws: TestError(code: 9)) { try future.result() }
        #expect(try future.exception() as? TestError == TestError(code: 9))
        let ok = Future<Int>()
        try ok.setResult(1)
        #expect(try ok.exception() == nil)
    }

    @Test func resultTimesOutWhilePending() {
        let future = Future<Int>()
        #expect(throws: TimeoutError.self) { try future.result(timeout: .milliseconds(20)) }
        #expect(throws: TimeoutError.self) { try future.exception(timeout: .zero) }
    }

    @Test func resultBlocksUntilAnotherThreadFinishesIt() throws {
        let future = Future<String>()
        let started = Gate()
        DispatchQueue.global().async {
            started.wait()
            try? future.setResult("done")
        }
        started.open()
        #expect(try future.result(timeout: .seconds(30)) == "done")
    }

    @Test func asyncValueDeliversResultAndError() async throws {
        let future = Future<Int>()
        DispatchQueue.global().async { try? future.setResult(42) }
        #expect(try await future.value == 42)
        let failing = Future<Int>()
        try failing.setException(TestError(code: 3))
        await #expect(throws: TestError(code: 3)) { try await failing.value }
    }
}
