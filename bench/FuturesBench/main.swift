// Micro-benchmark of the executor core: submit → result of no-op work items,
// in items per second, for comparison with Python's ThreadPoolExecutor
// (bench/futures_bench.py) in the same `make bench-core` run.
import FuturesCore

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000
let pool = ThreadPoolExecutor(maxWorkers: 4)
var sum = 0
let elapsed = try ContinuousClock().measure {
    var futures: [Future<Int>] = []
    futures.reserveCapacity(count)
    for i in 0..<count { futures.append(try pool.submit { i }) }
    for future in futures { sum &+= try future.result() }
}
pool.shutdown(wait: true, cancelFutures: false)
let seconds = elapsed.inSeconds
print("swift \(Int(Double(count) / seconds)) items/s (\(count) items, checksum \(sum))")
