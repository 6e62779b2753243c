// The running median behind --timeout P% agrees with sorting, at every step.
@testable import PfuturesCLI
import Testing

@Suite struct RunningMedianTests {
    @Test func matchesTheSortedMiddleAfterEveryInsert() {
        var median = RunningMedian()
        var seen: [Double] = []
        var generator = SystemRandomNumberGenerator()
        #expect(median.median == nil)
        for _ in 0..<500 {
            let value = Double(Int.random(in: 0..<50, using: &generator)) / 4
            median.insert(value)
            seen.append(value)
            let sorted = seen.sorted()
            #expect(median.median == sorted[sorted.count / 2], "\(sorted)")
        }
    }
}
