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
    /// Blocks taken and still being written: one may yet come back.
    private var inFlight = 0

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
            guard takers > 0 else {
                refused = true
                return false
            }
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

    /// The next block, waiting for one; nil once closed, empty and no
    /// block is on its way back.
    func take() -> [UInt8]? {
        lock.withLock {
            while head == blocks.count && (!closed || inFlight > 0) { lock.wait() }
            guard head < blocks.count else { return nil }
            defer {
                head += 1
                inFlight += 1
                if head == blocks.count { blocks.removeAll(keepingCapacity: true); head = 0 }
                lock.broadcast()
            }
            return blocks[head]
        }
    }

    /// A taken block was written.
    func delivered() {
        lock.withLock {
            inFlight -= 1
            lock.broadcast()
        }
    }

    /// A block a job could not take at all goes first for the others.
    func giveBack(_ block: [UInt8]) {
        lock.withLock {
            blocks.insert(block, at: head)
            inFlight -= 1
            lock.broadcast()
        }
    }

    /// A block a job took only part of before it ended: lost, counted.
    func partlyDelivered() {
        lock.withLock {
            inFlight -= 1
            torn += 1
            lock.broadcast()
        }
    }

    /// Whether a block was refused because no job was left (said by the reader).
    package var wasRefused: Bool { lock.withLock { refused } }
    private var refused = false

    /// Blocks a job took only in part.
    package var tornBlocks: Int { lock.withLock { torn } }
    private var torn = 0

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

    /// Writes blocks to `fd` until the stream ends or the job stops
    /// reading. `write` returns the bytes it wrote of a block.
    func feed(_ fd: Int32, write: ([UInt8]) -> Int) {
        defer { release() }
        while let block = stream.take() {
            let written = write(block)
            taken.add(written, ordering: .relaxed)
            if written == block.count {
                stream.delivered()
                continue
            }
            if written == 0 { stream.giveBack(block) } else { stream.partlyDelivered() }
            return
        }
    }
}
