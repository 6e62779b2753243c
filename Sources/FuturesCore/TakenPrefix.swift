// Arrays used as FIFO queues with a head index: what was taken must leave
// the array's storage as the queue goes, not only when it empties, or a
// queue that never quite empties keeps everything it ever held.

/// Drops `array[..<head]`, the part already taken, and sets `head` to 0:
/// at once when all was taken, otherwise once that part is at least half
/// the array and 64 long (so the shifting costs amortised O(1) per item).
@inlinable
package func dropTakenPrefix<Element>(_ array: inout [Element], head: inout Int) {
    if head == array.count {
        array.removeAll(keepingCapacity: true)
        head = 0
    } else if head >= 64 && head * 2 >= array.count {
        array.removeFirst(head)
        head = 0
    }
}
