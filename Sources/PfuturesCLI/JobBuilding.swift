// Building a run's Job from its records: the shared settings, the command
// or copy pair, and --pipe's block as the job's stdin. Built once per job
// (per slot only when {%} asks for it), the same Job whichever pool runs it.
import Jobs

extension JobRunner {
    /// The settings every job of the run shares.
    var settings: JobSettings {
        var settings = JobSettings()
        settings.shell = config.shell
        // GNU parallel's --timeout P%: a share of the median so far, none until three jobs ended.
        settings.timeout = config.timeout ?? config.timeoutPercent.flatMap { percent in
            control.medianRuntime.map { .nanoseconds(Int64($0 * percent / 100 * 1e9)) }
        }
        settings.killAfter = config.killAfter
        settings.captureOutput = config.outputMode != .ungroup
        settings.inheritStdin = config.argFile != nil && config.sources.isEmpty
        settings.copy = config.copy ?? CopyOptions()
        settings.placement = config.placement
        return settings
    }

    /// Job `sequence` of `records`, as it runs in `slot`.
    func job(sequence: Int, slot: Int, records: [InputRecord], input: JobInput? = nil) -> Job {
        // --pipe: the block goes to stdin, never into the arguments.
        guard let input else {
            return Job(sequence: sequence, action: action(sequence: sequence, slot: slot, records: records), settings: settings)
        }
        let invocation = config.template.invocation(records: [], sequence: sequence, slot: slot)
        // A worker process gets a block inside one protocol frame.
        if case .bytes(let block) = input, config.pool == .process, block.count > Self.largestBlockForWorkers {
            let reason = "block \(sequence) has \(block.count) bytes, over the \(Self.largestBlockForWorkers >> 20) MiB a worker "
                + "process takes (a record that long needs --pool thread)"
            return Job(sequence: sequence, action: .invalid(command: invocation.displayText, reason: reason), settings: settings)
        }
        return Job(sequence: sequence, action: .process(invocation), settings: settings, input: input)
    }

    /// The largest --pipe block sent to a worker process.
    static let largestBlockForWorkers = 60 << 20

    func action(sequence: Int, slot: Int, records: [InputRecord]) -> JobAction {
        guard config.copy != nil else {
            return .process(config.template.invocation(records: records, sequence: sequence, slot: slot))
        }
        if records.count == 2 { return .copy(source: records[0].text, destination: records[1].text) }
        let line = records.first?.text ?? []
        guard records.count == 1, let tab = line.firstIndex(of: 0x09) else {
            return .invalid(command: Array(records.map(\.text).joined(separator: [0x20])),
                            reason: "record \(sequence) is not SRC<TAB>DST (or SRC NUL DST NUL with -0)")
        }
        return .copy(source: Array(line[..<tab]), destination: Array(line[(tab + 1)...]))
    }
}
