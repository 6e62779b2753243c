// --progress: a status line on stderr, redrawn in place on a terminal and
// printed as plain periodic lines otherwise. It goes through the output
// sink's lock, so it never lands inside a job's output.
import FuturesCore
import Jobs
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

final class ProgressReporter: Sendable {
    private let control: RunControl
    private let sink: OutputSink
    private let onTerminal: Bool
    private let showBytes: Bool
    private let done = StopSwitch()
    private let started = ContinuousClock.now

    init(control: RunControl, sink: OutputSink, showBytes: Bool) {
        self.showBytes = showBytes
        self.control = control
        self.sink = sink
        self.onTerminal = isatty(2) != 0
    }

    func start() {
        let interval: Int32 = onTerminal ? 250 : 2000
        WorkerThread.detach(name: "progress") { [self] in
            var pfd = pollfd(fd: done.fd, events: Int16(POLLIN), revents: 0)
            while true {
                pfd.revents = 0
                if poll(&pfd, 1, interval) != 0 { return }
                draw(final: false)
            }
        }
    }

    /// Stops redrawing and prints the final state.
    func finish() {
        done.fire()
        draw(final: true)
    }

    private func draw(final: Bool) {
        let c = control.counts
        let elapsed = ContinuousClock.now - started
        let seconds = max(0.001, elapsed.inSeconds)
        let rate = Double(c.finished) / seconds
        var text = "pfutures: \(c.finished) done, \(c.running) running, \(c.unsuccessful) failed, \(c.read) read, "
            + String(format1(rate)) + (showBytes ? " files/s, " + format1(Double(c.bytesCopied) / seconds / 1_048_576) + " MiB/s"
                                                 : " jobs/s")
        if c.inputEnded && rate > 0 && !final {
            text += ", ETA \(Int((Double(c.read - c.finished) / rate).rounded(.up)))s"
        }
        let line = onTerminal ? "\r\u{1B}[K" + text + (final ? "\n" : "") : text + "\n"
        sink.writeStderr(Array(line.utf8))
    }

    private func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
