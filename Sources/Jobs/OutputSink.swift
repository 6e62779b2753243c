// Where jobs' output meets pfutures' stdout and stderr: one lock so blocks
// and lines of different jobs never mix, release in input order for -k,
// and the first EPIPE on stdout reported once so the run can stop quietly.
import ProcessPool
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How job output reaches pfutures' stdout and stderr (SPEC §2.5).
package enum OutputMode: Sendable, Equatable {
    /// Whole blocks per job when it ends (the default).
    case group
    /// Whole lines as they come.
    case lineBuffer
    /// Straight through: jobs write to pfutures' own descriptors.
    case ungroup
}

/// One job's captured output, ready to be written.
package struct JobOutput {
    package let stdout: CaptureBuffer
    package let stderr: CaptureBuffer
    package init(stdout: CaptureBuffer = CaptureBuffer(), stderr: CaptureBuffer = CaptureBuffer()) {
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// The run's single writer of job output.
/// @unchecked Sendable: mutable state is behind `lock`.
package final class OutputSink: @unchecked Sendable {
    /// Held output kept in memory for `-k` before later blocks are parked.
    package static let heldMemoryBudget = 8 * 1024 * 1024
    /// Held blocks that may keep their own temporary file before later ones
    /// are parked in the shared one.
    package static let heldFileBudget = 64

    private let lock = Mutex<Void>(())
    private let keepOrder: Bool
    private let onStdoutClosed: @Sendable (WriteFailure) -> Void
    private var nextSequence = 1
    private var held: [Int: JobOutput] = [:]
    private var heldMemory = 0
    private var heldFiles = 0
    private var parking: ParkingFile?
    private var stdoutClosed = false
    /// Set under the lock by the first EPIPE; `onStdoutClosed` runs after
    /// the lock is released, since it stops the run and cancelled jobs
    /// complete here in turn.
    private var closeToAnnounce: WriteFailure?
    /// The live status line (`--progress` on a terminal): cleared before
    /// anything is written and drawn again after, so no output lands on it.
    private var status: [UInt8]?

    /// - Parameters:
    ///   - keepOrder: release blocks in sequence order (`-k`).
    ///   - onStdoutClosed: called once, on the first failed write to stdout:
    ///     `.closed` (EPIPE, `| head -1`) or another errno (a full disk).
    package init(keepOrder: Bool, onStdoutClosed: @escaping @Sendable (WriteFailure) -> Void) {
        self.keepOrder = keepOrder
        self.onStdoutClosed = onStdoutClosed
    }

    /// Hands over job `sequence`'s output block. Every sequence number must
    /// be completed exactly once (with an empty output if the job never ran),
    /// or `-k` holds everything after it.
    package func complete(sequence: Int, output: JobOutput?) {
        locked {
            guard keepOrder else {
                if let output { writeLocked(output) }
                return
            }
            let block = output ?? JobOutput()
            guard sequence == nextSequence else {
                hold(block)
                held[sequence] = block
                return
            }
            writeLocked(block)
            nextSequence += 1
            while let next = held.removeValue(forKey: nextSequence) {
                heldMemory -= next.stdout.memoryFootprint + next.stderr.memoryFootprint
                heldFiles -= next.stdout.ownsFile || next.stderr.ownsFile ? 1 : 0
                writeLocked(next)
                nextSequence += 1
            }
        }
    }

    /// Keeps a block that must wait for earlier ones within the budgets:
    /// past them it goes into the shared parking file.
    private func hold(_ block: JobOutput) {
        let memory = block.stdout.memoryFootprint + block.stderr.memoryFootprint
        let ownsFile = block.stdout.ownsFile || block.stderr.ownsFile
        if heldMemory + memory > Self.heldMemoryBudget || (ownsFile && heldFiles >= Self.heldFileBudget) {
            if parking == nil { parking = ParkingFile() }
            if let parking {
                block.stdout.park(in: parking)
                block.stderr.park(in: parking)
            }
        }
        heldMemory += block.stdout.memoryFootprint + block.stderr.memoryFootprint
        heldFiles += block.stdout.ownsFile || block.stderr.ownsFile ? 1 : 0
    }

    /// Writes whole lines of one job at once (`--line-buffer`).
    package func writeLines(_ bytes: [UInt8], to stream: TaskStream) {
        locked { write(bytes, to: stream == .stdout ? 1 : 2) }
    }

    /// Shows `line` (no newline) as the terminal's live status line, or
    /// removes it (nil).
    package func showStatus(_ line: [UInt8]?) {
        locked { status = line }
    }

    /// Writes a message or command echo to stderr without mixing with output.
    package func writeStderr(_ bytes: [UInt8]) {
        locked { write(bytes, to: 2) }
    }

    private func writeLocked(_ output: JobOutput) {
        if !stdoutClosed {
            do { try output.stdout.write(to: 1) } catch { noteFailure(error, fd: 1) }
        }
        do { try output.stderr.write(to: 2) } catch { noteFailure(error, fd: 2) }
    }

    private func write(_ bytes: [UInt8], to fd: Int32) {
        if fd == 1 && stdoutClosed { return }
        do { try writeAll(fd, bytes) } catch { noteFailure(error, fd: fd) }
    }

    private func noteFailure(_ failure: WriteFailure, fd: Int32) {
        guard fd == 1, !stdoutClosed else { return }
        stdoutClosed = true
        closeToAnnounce = failure
    }

    /// Runs `body` under the lock (with the status line out of the way),
    /// then announces a closed stdout outside it.
    private func locked(_ body: () -> Void) {
        let announce: WriteFailure? = lock.withLock { _ in
            if status != nil { write(Array("\r\u{1B}[K".utf8), to: 2) }
            body()
            if let status { write(Array("\r".utf8) + status, to: 2) }
            defer { closeToAnnounce = nil }
            return closeToAnnounce
        }
        if let announce { onStdoutClosed(announce) }
    }
}

/// Collects a job's output for `--group`, prefixing lines for `--tag`.
package final class GroupedReceiver: OutputReceiver {
    package let output = JobOutput()
    private let tagger: LineTagger?

    package init(tag: [UInt8]?) { tagger = tag.map { LineTagger(prefix: $0) } }

    /// `tag` is asked for the prefix when the first output comes (a
    /// `--tagstring` with `{%}` knows its slot only once the job started).
    package init(tag: @escaping () -> [UInt8]) { tagger = LineTagger(prefix: tag) }

    package func receive(_ bytes: UnsafeRawBufferPointer, from stream: TaskStream) {
        let buffer = stream == .stdout ? output.stdout : output.stderr
        if let tagger { buffer.append(tagger.tagged(bytes, stream: stream)) } else { buffer.append(bytes) }
    }
}

/// Passes a job's complete lines to the sink as they arrive (`--line-buffer`).
package final class LineReceiver: OutputReceiver {
    private let sink: OutputSink
    private let tagger: LineTagger?
    private var partial: [TaskStream: [UInt8]] = [:]

    package init(sink: OutputSink, tag: [UInt8]?) {
        self.sink = sink
        self.tagger = tag.map { LineTagger(prefix: $0) }
    }

    /// `tag` is asked for the prefix when the first output comes.
    package init(sink: OutputSink, tag: @escaping () -> [UInt8]) {
        self.sink = sink
        self.tagger = LineTagger(prefix: tag)
    }

    package func receive(_ bytes: UnsafeRawBufferPointer, from stream: TaskStream) {
        // Only the new bytes are searched and the held line grows in place,
        // so a line of any length costs linear time (#15: 100 MiB took minutes).
        guard let newline = bytes.lastIndex(of: 0x0A) else {
            partial[stream, default: []].append(contentsOf: bytes)
            return
        }
        var lines = partial.removeValue(forKey: stream) ?? []
        lines.append(contentsOf: bytes[...newline])
        if newline + 1 < bytes.count { partial[stream] = Array(bytes[(newline + 1)...]) }
        sink.writeLines(tagged(lines, stream), to: stream)
    }

    /// Writes what is left of an unterminated last line.
    package func finish() {
        for stream in [TaskStream.stdout, .stderr] {
            if let rest = partial[stream], !rest.isEmpty { sink.writeLines(tagged(rest, stream), to: stream) }
        }
        partial = [:]
    }

    private func tagged(_ bytes: [UInt8], _ stream: TaskStream) -> [UInt8] {
        guard let tagger else { return bytes }
        return bytes.withUnsafeBytes { tagger.tagged($0, stream: stream) }
    }
}

/// Passes output on as it comes, unaligned (`-u` for jobs that run in a
/// worker process, which cannot share pfutures' own descriptors).
package final class DirectReceiver: OutputReceiver {
    private let sink: OutputSink
    package init(sink: OutputSink) { self.sink = sink }
    package func receive(_ bytes: UnsafeRawBufferPointer, from stream: TaskStream) {
        sink.writeLines(Array(bytes), to: stream)
    }
}

/// Inserts `prefix` + TAB at the start of every line, across chunk borders.
final class LineTagger {
    private var prefix: [UInt8] = []
    private var makePrefix: (() -> [UInt8])?
    private var atLineStart: [TaskStream: Bool] = [.stdout: true, .stderr: true]

    init(prefix: [UInt8]) { self.prefix = prefix + [0x09] }

    /// The prefix is made when first needed.
    init(prefix: @escaping () -> [UInt8]) { makePrefix = prefix }

    func tagged(_ bytes: UnsafeRawBufferPointer, stream: TaskStream) -> [UInt8] {
        if let make = makePrefix {
            prefix = make() + [0x09]
            makePrefix = nil
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + prefix.count)
        var lineStart = atLineStart[stream] ?? true
        for byte in bytes {
            if lineStart { out += prefix }
            out.append(byte)
            lineStart = byte == 0x0A
        }
        atLineStart[stream] = lineStart
        return out
    }
}
