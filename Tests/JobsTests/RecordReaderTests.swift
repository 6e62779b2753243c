// Splitting input into records: delimiters, empty records, chunk borders.
import Jobs
import ProcessPool
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Records read from `input` through a real pipe.
private func records(_ input: [UInt8], format: RecordFormat, chunkSize: Int = 1 << 16) -> [[UInt8]] {
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    let writer = fds[1]
    let bytes = input
    let thread = Thread_write(writer, bytes)
    let reader = RecordReader(fd: fds[0], format: format, chunkSize: chunkSize)
    var out: [[UInt8]] = []
    while let record = reader.next() { out.append(record) }
    thread.wait()
    close(fds[0])
    return out
}

/// Writes on another thread so large inputs cannot fill the pipe and block.
private final class Thread_write: @unchecked Sendable {
    private var handle = pthread_t()
    init(_ fd: Int32, _ bytes: [UInt8]) {
        let box = Unmanaged.passRetained(Payload(fd: fd, bytes: bytes)).toOpaque()
        pthread_create(&handle, nil, { raw in
            let payload = Unmanaged<Payload>.fromOpaque(raw!).takeRetainedValue()
            try? writeAll(payload.fd, payload.bytes)
            close(payload.fd)
            return nil
        }, box)
    }
    func wait() { pthread_join(handle, nil) }
    private final class Payload { let fd: Int32; let bytes: [UInt8]; init(fd: Int32, bytes: [UInt8]) { self.fd = fd; self.bytes = bytes } }
}

@Suite struct RecordReaderTests {
    @Test func linesSkipEmptyAndKeepCarriageReturn() {
        #expect(records(Array("a\n\nb\r\n\nc".utf8), format: .lines) == [Array("a".utf8), Array("b\r".utf8), Array("c".utf8)])
    }

    @Test func nulRecordsKeepEmptyOnesAndNewlines() {
        #expect(records(Array("x\ny\0\0z\0".utf8), format: .nul) == [Array("x\ny".utf8), [], Array("z".utf8)])
    }

    @Test func recordsSpanChunkBorders() {
        let long = [UInt8](repeating: 0x41, count: 1000)
        let input = long + [0x0A] + Array("short\n".utf8) + long
        #expect(records(input, format: .lines, chunkSize: 7) == [long, Array("short".utf8), long])
    }

    @Test func invalidUTF8PassesThrough() {
        #expect(records([0xFF, 0x0A, 0xC3, 0x28, 0x0A], format: .lines) == [[0xFF], [0xC3, 0x28]])
    }
}
