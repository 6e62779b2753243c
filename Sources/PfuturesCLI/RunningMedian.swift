// The median of a stream of numbers in O(log n) per number: the lower half
// in a max-heap, the upper half in a min-heap (for --timeout P%, which asks
// for it before every job).

struct RunningMedian {
    private var lower = Heap(above: >)   // max-heap: the smaller half
    private var upper = Heap(above: <)   // min-heap: the larger half

    var count: Int { lower.count + upper.count }

    mutating func insert(_ value: Double) {
        if let top = lower.top, value > top { upper.push(value) } else { lower.push(value) }
        // Keep lower as large as upper, or one larger.
        if lower.count > upper.count + 1 { upper.push(lower.pop()!) }
        if upper.count > lower.count { lower.push(upper.pop()!) }
    }

    /// The median (the upper middle value of an even count), or nil when empty.
    var median: Double? { count % 2 == 0 ? upper.top ?? lower.top : lower.top }
}

/// A binary heap whose top is the element that is `above` every other.
private struct Heap {
    private var items: [Double] = []
    private let above: (Double, Double) -> Bool

    init(above: @escaping (Double, Double) -> Bool) { self.above = above }

    var count: Int { items.count }
    var top: Double? { items.first }

    mutating func push(_ value: Double) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard above(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Double? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let value = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < items.count && above(items[left], items[best]) { best = left }
            if right < items.count && above(items[right], items[best]) { best = right }
            if best == parent { return value }
            items.swapAt(parent, best)
            parent = best
        }
    }
}
