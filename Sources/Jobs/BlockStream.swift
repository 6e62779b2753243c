// --round-robin: blocks handed to a few long-lived jobs instead of one job
// per block. The reader puts blocks in; each job's feeder takes the next one
// as soon as it has written the last, so a block goes to whichever job is
// ready. A block a job could not take (it exited) goes back for the others;
// once no job is left to take blocks, putting one fails.
import FuturesCore
import Synchronization

/// A bounded queue of blocks shared by the jobs of a --round-robin run.
/// @unchecked Sendable: all state is behind `lock`.
package final class BlockStream: @unchecked Sendable {
    private let lock = ConditionLock()
    private var blocks: [[UInt8]] = []
    private var head = 0
    private let capacity: Int
    private var closed = false
    private var takers: Int

    /// - Parameters: capacity: blocks held at most; takers: the jobs that
    ///   will take from it (each calls `leave()` when it ends).
    package init(capacity: Int, takers: Int) {
        self.capacity = max(1, capacity)
        self.takers = takers
    }

    /// Adds a block, waiting while the stream is full; false once no job
    /// is left to take it.
    package func put(_ block: [UInt8]) -> Bool {
        lock.withLock {
            while blocks.count - head >= capacity && takers > 0 { lock.wait() }
            guard takers > 0 else { return false }
            blocks.append(block)
            lock.broadcast()
            return true
        }
    }

    /// No more blocks: takers get nil once the stream is empty.
    package func close() {
        lock.withLock {
            closed = true
            lock.broadcast()
        }
    }

    /// The next block, waiting for one; nil once closed and empty.
    func take() -> [UInt8]? {
        lock.withLock {
            while head == blocks.count && !closed { lock.wait() }
            guard head < blocks.count else { return nil }
            defer {
                head += 1
                if head == blocks.count { blocks.removeAll(keepingCapacity: true); head = 0 }
                lock.broadcast()
            }
            return blocks[head]
        }
    }

    /// A block a job could not take goes first for the others.
    func giveBack(_ block: [UInt8]) {
        lock.withLock {
            blocks.insert(block, at: head)
            lock.broadcast()
        }
    }

    /// A job stopped taking blocks (or will never start).
    package func leave() {
        lock.withLock {
            takers -= 1
            lock.broadcast()
        }
    }

    /// Blocks still held (not taken by any job).
    package var undelivered: Int { lock.withLock { blocks.count - head } }
}

/// One job's share of a --round-robin stream, and the bytes it took.
package final class StreamShare: Sendable {
    package let stream: BlockStream
    private let taken = Atomic<Int>(0)
    private let released = Atomic<Bool>(false)

    package init(_ stream: BlockStream) { self.stream = stream }

    /// Bytes written to this job so far.
    package var bytes: Int { taken.load(ordering: .relaxed) }

    /// This job takes no (further) block: it ended, or never started.
    /// Only the first call counts.
    package func release() {
        if !released.exchange(true, ordering: .relaxed) { stream.leave() }
    }

    /// Writes blocks to `fd` until the stream ends or the job stops reading.
    func feed(_ fd: Int32, write: ([UInt8]) -> Bool) {
        defer { release() }
        while let block = stream.take() {
            guard write(block) else {
                stream.giveBack(block)
                return
            }
            taken.add(block.count, ordering: .relaxed)
        }
    }
}
