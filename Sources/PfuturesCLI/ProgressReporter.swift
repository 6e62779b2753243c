// --progress, --eta and --bar: a status line on stderr. On a terminal it is
// the sink's live status line (cleared around every piece of job output, cut
// to the terminal's width, redrawn four times a second) and ends with a final
// line; elsewhere it is a plain line every two seconds and a final one.
import FuturesCore
import Jobs
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

final class ProgressReporter: Sendable {
    /// How the status reads.
    enum Style: Sendable { case counts, bar }

    private let control: RunControl
    private let sink: OutputSink
    private let onTerminal: Bool
    private let showBytes: Bool
    private let style: Style
    private let done = StopSwitch()
    private let started = ContinuousClock.now

    init(control: RunControl, sink: OutputSink, showBytes: Bool, style: Style) {
        self.showBytes = showBytes
        self.control = control
        self.sink = sink
        self.style = style
        self.onTerminal = isatty(2) != 0
    }

    /// - Throws: `ThreadStartError` when no thread can be had.
    func start() throws(ThreadStartError) {
        let interval: Int32 = onTerminal ? 250 : 2000
        try WorkerThread.detach(name: "progress") { [self] in
            var pfd = pollfd(fd: done.fd, events: Int16(POLLIN), revents: 0)
            while true {
                pfd.revents = 0
                if poll(&pfd, 1, interval) != 0 { return }
                let text = status(final: false)
                if onTerminal { sink.showStatus(Array(fitted(text).utf8)) } else { sink.writeStderr(Array((text + "\n").utf8)) }
            }
        }
    }

    /// Stops redrawing and prints the final state as a line of its own.
    func finish() {
        done.fire()
        if onTerminal { sink.showStatus(nil) }
        sink.writeStderr(Array((status(final: true) + "\n").utf8))
    }

    private func status(final: Bool) -> String {
        let c = control.counts
        let seconds = max(0.001, (ContinuousClock.now - started).inSeconds)
        let rate = Double(c.finished) / seconds
        let eta = c.inputEnded && rate > 0 && !final ? ", ETA \(Int((Double(c.read - c.finished) / rate).rounded(.up)))s" : ""
        let elapsed = "\(Int(seconds))s"
        switch style {
        case .bar:
            // The share is of the records read so far until input ends.
            let share = c.read > 0 ? Double(c.finished) / Double(c.read) : 0
            let width = 20
            let filled = Int(share * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            return "pfutures: \(Int(share * 100))% [\(bar)] \(c.finished)/\(c.read)\(c.inputEnded ? "" : "+") in \(elapsed)\(eta)"
        case .counts:
            let speed = showBytes ? format1(rate) + " files/s, " + format1(Double(c.bytesCopied) / seconds / 1_048_576) + " MiB/s"
                                  : format1(rate) + " jobs/s"
            return "pfutures: \(c.finished) done, \(c.running) running, \(c.unsuccessful) failed, \(c.read) read, "
                + "\(elapsed), \(speed)\(eta)"
        }
    }

    /// `text` cut to one character less than the terminal is wide.
    private func fitted(_ text: String) -> String {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 1 else { return text }
        return String(text.prefix(Int(size.ws_col) - 1))
    }

    private func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
