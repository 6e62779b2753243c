// Output mechanisms without processes: spilling, tagging, slots.
import Jobs
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CaptureBufferTests {
    @Test func spillsPastTheThresholdAndKeepsEveryByte() throws {
        let buffer = CaptureBuffer()
        let chunk = (0..<4096).map { UInt8(truncatingIfNeeded: $0) }
        for _ in 0..<100 { buffer.append(chunk) }
        #expect(buffer.count == 409_600)
        #expect(buffer.memoryFootprint < CaptureBuffer.spillThreshold, "moved to a temporary file")
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        var collected: [UInt8] = []
        let drain = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { drain.deallocate() }
        // Write in a child thread of control: the pipe is smaller than the data.
        let total = buffer.count
        let out = fds[1]
        nonisolated(unsafe) let shared = buffer
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box { try? shared.write(to: out); close(out) }).toOpaque()
        pthread_create(&thread, nil, { raw in Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().run(); return nil }, box)
        while collected.count < total {
            let n = read(fds[0], drain.baseAddress, drain.count)
            if n <= 0 { break }
            collected.append(contentsOf: drain[0..<n])
        }
        pthread_join(thread, nil)
        close(fds[0])
        #expect(collected == Array((0..<100).map { _ in chunk }.joined()))
    }
}

private final class Box { let run: () -> Void; init(_ run: @escaping () -> Void) { self.run = run } }

@Suite struct SlotGateTests {
    @Test func slotsAreNumberedFromOneAndReused() {
        let gate = SlotGate(limit: 2)
        #expect(gate.acquire() == 1)
        #expect(gate.acquire() == 2)
        gate.release(1)
        #expect(gate.acquire() == 1)
        gate.adjust(by: 1)
        #expect(gate.acquire() == 3)
        gate.close()
        #expect(gate.acquire() == nil)
    }

    @Test func capNeverDropsBelowOne() {
        let gate = SlotGate(limit: 1)
        gate.adjust(by: -5)
        #expect(gate.currentLimit == 1)
    }
}
