// The worker cap of a run: at most `limit` jobs hold a slot at once. Slots
// are numbered from 1 (the `{%}` replacement); the limit can move while jobs
// run (SIGUSR1/SIGUSR2), and closing the gate releases anyone waiting.
import FuturesCore

/// Hands out worker slots under an adjustable cap.
/// @unchecked Sendable: mutable state is behind `lock`.
package final class SlotGate: @unchecked Sendable {
    private let lock = ConditionLock()
    private var limit: Int
    private var inUse = 0
    private var freeSlots: [Int] = []   // returned slot numbers, reused lowest first
    private var nextSlot = 1
    private var closed = false

    /// - Parameter limit: the cap; `Int.max` for none.
    package init(limit: Int) { self.limit = max(1, limit) }

    /// The current cap.
    package var currentLimit: Int { lock.withLock { limit } }

    /// Waits for a free slot and takes it; nil once the gate is closed.
    package func acquire() -> Int? {
        lock.withLock {
            while inUse >= limit && !closed { lock.wait() }
            if closed { return nil }
            inUse += 1
            if let lowest = freeSlots.indices.min(by: { freeSlots[$0] < freeSlots[$1] }) {
                return freeSlots.remove(at: lowest)
            }
            defer { nextSlot += 1 }
            return nextSlot
        }
    }

    /// Gives a slot back.
    package func release(_ slot: Int) {
        lock.withLock {
            inUse -= 1
            freeSlots.append(slot)
            lock.broadcast()
        }
    }

    /// Moves the cap by `delta`, never below 1; running jobs are not touched.
    package func adjust(by delta: Int) {
        lock.withLock {
            if limit != Int.max { limit = max(1, limit + delta) }
            lock.broadcast()
        }
    }

    /// Waits until every slot has been given back.
    package func waitUntilIdle() {
        lock.withLock { while inUse > 0 { lock.wait() } }
    }

    /// Refuses every later `acquire` and wakes those waiting.
    package func close() {
        lock.withLock {
            closed = true
            lock.broadcast()
        }
    }
}
