// The writing end of a protocol stream. Frames are written whole, one at a
// time, from any thread. Across a relay that runs Nagle's algorithm on a
// TCP hop (srun: slurmstepd to srun), two small writes in a row cost a
// delayed ACK (~40 ms) each: a short job's STARTED and RESULT would take
// 44 ms instead of 2. So a remote worker lingers: STARTED and OUTPUT wait
// up to `linger` for the next frame and go out with it in one write.
import FuturesCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes whole frames to a descriptor from any thread.
/// @unchecked Sendable: all state is behind `lock`.
package final class FrameOutput: @unchecked Sendable {
    private let fd: Int32
    private let lock = ConditionLock()
    private var finished = false
    private var linger: Duration?
    /// Lingering frames, written with the next frame or when `due` passes.
    private var held: [UInt8] = []
    private var due: Deadline?
    private var flusherRunning = false
    /// Held bytes are written at once beyond this size.
    private static let holdLimit = 64 << 10

    package init(fd: Int32) { self.fd = fd }

    /// From now on STARTED and OUTPUT wait up to `duration` for company.
    package func lingerFrames(for duration: Duration) {
        lock.withLock { linger = duration }
    }

    /// Sends `frame` as the last one: any later send is dropped (a heartbeat
    /// must not follow GOODBYE).
    package func finish(with frame: Frame) {
        lock.withLock {
            if !finished { _ = writeLocked(frame.encoded()) }
            finished = true
            lock.broadcast()  // the flusher's work is over
        }
    }

    /// Sends `frame`; false when the reader is gone.
    @discardableResult
    package func send(_ frame: Frame) -> Bool {
        let bytes = frame.encoded()
        switch frame {
        case .started, .output: return hold(bytes)
        default: return lock.withLock { !finished && writeLocked(bytes) }
        }
    }

    private func hold(_ bytes: [UInt8]) -> Bool {
        lock.withLock {
            guard !finished else { return false }
            guard let linger else { return writeLocked(bytes) }
            held += bytes
            if held.count >= Self.holdLimit { return writeLocked([]) }
            if due == nil {
                due = Deadline.after(linger)
                if flusherRunning { lock.broadcast() } else {
                    flusherRunning = true
                    // No thread to flush later: no lingering, write now.
                    do { try WorkerThread.detach(name: "frame-linger") { [self] in flushWhenDue() } } catch {
                        flusherRunning = false
                        return writeLocked([])
                    }
                }
            }
            return true
        }
    }

    /// Writes what is held, then `bytes`, in one write.
    private func writeLocked(_ bytes: [UInt8]) -> Bool {
        let all = held.isEmpty ? bytes : held + bytes
        held.removeAll(keepingCapacity: true)
        due = nil
        return (try? writeAll(fd, all)) != nil
    }

    /// Writes held frames whose lingering is over; lives as long as the process.
    private func flushWhenDue() {
        lock.withLock {
            while !finished {
                guard let due else { lock.wait(); continue }
                if lock.wait(until: due) { continue }
                if self.due != nil && !held.isEmpty { _ = writeLocked([]) }
            }
            flusherRunning = false
        }
    }
}
