// Done-callbacks: when and where they run, in what order, and that a
// failing one hurts nobody.
import Dispatch
import Futures
import Testing

final class Recorder: @unchecked Sendable {  // state behind `lock`
    private let lock = DispatchSemaphore(value: 1)
    private var items: [String] = []
    func add(_ item: String) { lock.wait(); items.append(item); lock.signal() }
    var all: [String] { lock.wait(); defer { lock.signal() }; return items }
}

@Suite struct CallbackTests {
    @Test func callbackOnDoneFutureRunsAtOnce() throws {
        let future = Future<Int>()
        try future.setResult(5)
        let recorder = Recorder()
        future.addDoneCallback { recorder.add("ran \(try $0.result())") }
        #expect(recorder.all == ["ran 5"])
    }

    @Test func callbacksRunInOrderWhenFinished() throws {
        let future = Future<Int>()
        let recorder = Recorder()
        for name in ["a", "b", "c"] { future.addDoneCallback { _ in recorder.add(name) } }
        #expect(recorder.all.isEmpty)
        try future.setResult(1)
        #expect(recorder.all == ["a", "b", "c"])
    }

    @Test func failingCallbackDoesNotStopTheOthers() throws {
        let future = Future<Int>()
        let recorder = Recorder()
        future.addDoneCallback { _ in throw TestError(code: 1) }
        future.addDoneCallback { _ in recorder.add("after") }
        try future.setResult(1)
        #expect(recorder.all == ["after"])
    }

    @Test func cancelRunsCallbacks() {
        let future = Future<Int>()
        let recorder = Recorder()
        future.addDoneCallback { recorder.add($0.isCancelled ? "cancelled" : "other") }
        future.cancel()
        #expect(recorder.all == ["cancelled"])
    }
}
