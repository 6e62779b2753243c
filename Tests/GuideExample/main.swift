// The Futures guide of the README, as one program: GuideTests checks that
// every Swift block of the README's guide is a `guide:` region of this file,
// word for word, and runs the program to check what it prints.
// guide: task
import Futures
import Glibc  // sleep(), for the slow work below

/// Work a worker process can run: a Codable value with a `run()`.
struct CountPrimes: ProcessTask {
    let below: Int
    func run() throws -> Int {
        (2..<max(2, below)).filter { n in !(2..<n).contains { n % $0 == 0 } }.count
    }
}

// First thing in main: a worker process the pool starts serves here and exits.
ProcessPoolExecutor.serveIfWorker([CountPrimes.self])
// guide: end

// guide: thread-pool
let pool = ThreadPoolExecutor(maxWorkers: 4)
let sum = try pool.submit { (1...1_000).reduce(0, +) }
print(try sum.result(timeout: .seconds(5)))                // 500500

// Work starts at the call; results come back in input order.
let squares = try pool.map(1...5, timeout: .seconds(60)) { $0 * $0 }
print(try squares.collect())                               // [1, 4, 9, 16, 25]
// guide: end

// guide: wait
let futures = try (1...3).map { n in try pool.submit { n * 10 } }
let finished = wait(futures, timeout: .seconds(5), returnWhen: .allCompleted)
print(finished.done.count, finished.notDone.count)         // 3 0

var total = 0
for future in try asCompleted(futures, timeout: .seconds(5)).collect() {
    total += try future.result()
}
print(total)                                               // 60
// guide: end

// guide: map-timeout
// A map that runs out of time throws TimeoutError and cancels every item
// not yet started, the one it was waiting for included.
let one = ThreadPoolExecutor(maxWorkers: 1)
let slow = try one.map([1, 1, 1], timeout: .milliseconds(200)) { seconds -> UInt32 in
    sleep(seconds)
}
do { _ = try slow.collect() } catch is TimeoutError { print("gave up") }   // gave up
one.shutdown(wait: true, cancelFutures: false)  // waits for the first item only
// guide: end

// guide: async
let answer = try pool.submit { 6 * 7 }
print(try await answer.value)                              // 42

var lengths: [Int] = []
for try await length in try pool.map(["a", "bb", "ccc"], { $0.count }) {
    lengths.append(length)
}
print(lengths)                                             // [1, 2, 3]

var seen = 0
for try await future in asCompleted(futures, timeout: .seconds(5)) {
    seen += try future.result()
}
print(seen)                                                // 60
// guide: end

// guide: process-pool
let workers = ProcessPoolExecutor(maxWorkers: 2)          // started from this program
let counts = try workers.map([10, 100, 1_000].map(CountPrimes.init), timeout: .seconds(60))
print(try counts.collect())                                // [4, 25, 168]
workers.shutdown(wait: true, cancelFutures: false)
pool.shutdown(wait: true, cancelFutures: false)
// guide: end
