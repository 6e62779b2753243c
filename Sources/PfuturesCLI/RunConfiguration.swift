// Stage two of parsing: raw option values validated and resolved into the
// configuration that `run` consumes. No I/O here.
import FuturesCore
import Jobs
#if canImport(Glibc)
import Glibc
#endif

/// When to stop early (`--halt`): after N (or P% of the jobs read so far)
/// failed, succeeded, or just finished, as GNU parallel.
struct HaltPolicy: Equatable {
    enum When: Equatable { case soon, now }
    enum Counting: Equatable { case fail, success, done }
    let when: When
    let counting: Counting
    /// N jobs, or else `percent` of the jobs finished so far.
    let count: Int?
    let percent: Double?

    /// Whether `matching` jobs meet the condition, of `read` read so far.
    func isMet(matching: Int, read: Int) -> Bool {
        if let count { return matching >= count }
        return read > 0 && Double(matching) * 100 >= (percent ?? 100) * Double(read)
    }
}

/// Which logged jobs --resume skips.
enum ResumeMode: Equatable { case none, all, succeededOnly }

/// Which executor runs the jobs.
enum PoolKind: Equatable { case thread, process }

/// Everything `run` needs, validated.
struct RunConfiguration {
    var template = CommandTemplate.command
    var recordFormat = RecordFormat.lines
    var argFile: [UInt8]?
    /// `:::`/`::::` sources; when given, stdin is not read for records.
    var sources: [SourceSpec] = []
    var linkSources = false
    var header = false
    var columns: ColumnSplitter?
    var endMarker: [UInt8]?
    var recordsPerJob = 1
    var recordsPerJobGiven = false
    /// -X/-m: as many records per job as fit into `maxChars`.
    var packs = false
    var maxChars: Int?
    var exitIfTooLong = false
    var workerCap = ThreadPoolExecutor.defaultMaxWorkers   // Int.max: no cap
    var outputMode = OutputMode.group
    var keepOrder = false
    var tag = false
    var shuffle = false
    /// --nice N: niceness added to pfutures' own (jobs inherit it).
    var niceness: Int32?
    /// --tagstring: the tag, as a template of its own.
    var tagString: CommandTemplate?
    /// --results DIR.
    var results: [UInt8]?
    var verbose = false
    var dryRun = false
    var shell: [UInt8] = Array("/bin/sh".utf8)
    var timeout: Duration?
    /// `--timeout P%`: P% of the median runtime of the jobs finished so far.
    var timeoutPercent: Double?
    var killAfter = Duration.seconds(2)
    var deadline: Duration?
    var halt: HaltPolicy?
    var initializer: [UInt8]?
    /// --progress/--eta (counts) or --bar.
    var progress: ProgressReporter.Style?
    var jobLog: [UInt8]?
    var events: [UInt8]?
    var retry = RetryPolicy()
    var resume = ResumeMode.none
    var delay: Duration?
    var maxLoad: Double?
    var minFreeMemory: Int?
    /// Set for `pfutures copy`.
    var copy: CopyOptions?
    var pool = PoolKind.thread
    var chunksize = 1
    var maxTasksPerChild: Int?
    var workerTimeout = Duration.seconds(5)
    /// Other machines the jobs run on (-S, --sshloginfile, --slurm).
    var remote = RemoteSettings()
    /// --env and --workdir.
    var placement = JobPlacement()
    /// --pipe: how stdin is cut into blocks; nil: records become arguments.
    var pipe: BlockFormat?
    /// --pipepart: jobs read byte ranges of the -a file.
    var pipePart = false
    /// --round-robin: -j long-lived jobs share the blocks.
    var roundRobin = false
    /// -j, when given: with hosts, the job slots per host.
    var workerCapGivenValue: Int? { workerCapGiven ? workerCap : nil }
    private var workerCapGiven = false

    init() {}

    /// Resolves parsed options.
    /// - Parameter canRun: whether a program of that name exists (PATH is
    ///   searched); it decides if `'wc -c < {}'` is a shell template.
    /// - Throws: `UsageError` naming the option and the bad value.
    init(_ parsed: ParsedCommandLine, subcommand: Subcommand = .run,
         canRun: ([UInt8]) -> Bool = { JobLauncher.shared.canRun($0) }) throws {
        if subcommand == .copy { copy = CopyOptions() }
        var replaceToken: [UInt8]?
        var throughShell = false
        var repeatPerWord = false
        for (id, raw) in parsed.values {
            let text = String(decoding: raw, as: UTF8.self)
            switch id {
            case .jobs, .maxProcs, .maxWorkers:
                workerCap = try Self.workerCap(text, option: id)
                workerCapGiven = true
            case .pool:
                switch text {
                case "thread": pool = .thread
                case "process": pool = .process
                default: throw UsageError(message: "--pool: '\(text)' is not thread or process")
                }
            case .chunksize: chunksize = try Self.count(text, option: "--chunksize", allowZero: false)
            case .maxTasksPerChild: maxTasksPerChild = try Self.count(text, option: "--max-tasks-per-child", allowZero: false)
            case .workerTimeout: workerTimeout = try Self.seconds(text, option: "--worker-timeout")
            case .env:
                guard !raw.isEmpty, !raw.contains(0x3D) else { throw UsageError(message: "--env: '\(text)' is not a variable name") }
                // As GNU parallel: a variable pfutures does not have is not passed.
                if let value = getenv(text) {
                    placement.environment.append(raw + [0x3D] + Array(String(cString: value).utf8))
                }
            case .workdir:
                guard !raw.isEmpty else { throw UsageError(message: "--workdir: needs a directory") }
                placement.workdir = raw.first == 0x2F ? raw : Self.homeRelative(Self.currentDirectory() + [0x2F] + raw)
            case .pipe: pipe = pipe ?? BlockFormat()
            case .pipePart:
                pipe = pipe ?? BlockFormat()
                pipePart = true
            case .block, .recordEnd, .recordStart: break  // with --pipe, below
            case .roundRobin: roundRobin = true
            case .recordsPerBlock:
                recordsPerJob = try Self.count(text, option: "-N", allowZero: false)
                recordsPerJobGiven = true
            case .sshLogin: remote.logins.append(text)
            case .sshLoginFile: remote.loginFiles.append(raw)
            case .ssh:
                guard !text.allSatisfy({ $0 == " " }) else { throw UsageError(message: "--ssh: needs a command") }
                remote.ssh = text
            case .slurm: remote.slurm = true
            case .launcher:
                guard !text.isEmpty else { throw UsageError(message: "--launcher: needs a command") }
                remote.launcher = text
            case .remotePfutures:
                guard !raw.isEmpty else { throw UsageError(message: "--remote-pfutures: needs a path") }
                remote.remotePfutures = raw
            case .argFile: argFile = raw
            case .null: recordFormat = .nul
            case .delimiter: recordFormat = RecordFormat(delimiter: try Self.delimiter(raw), skipsEmpty: false)
            case .shell:
                guard !raw.isEmpty else { throw UsageError(message: "--shell: needs a path") }
                shell = raw
            case .replace:
                guard !raw.isEmpty else { throw UsageError(message: "-I: the replacement string is empty") }
                replaceToken = raw
            case .maxArgs:
                recordsPerJob = try Self.count(text, option: "--max-args", allowZero: false)
                recordsPerJobGiven = true
            case .maxLines:
                recordsPerJob = try Self.count(text, option: "--max-lines", allowZero: false)
                recordsPerJobGiven = true
            case .contextReplace: (packs, repeatPerWord) = (true, true)
            case .multipleArgs: (packs, repeatPerWord) = (true, false)
            case .maxChars: maxChars = try Self.count(text, option: "--max-chars", allowZero: false)
            case .exitIfTooLong: exitIfTooLong = true
            case .endOfFile: endMarker = raw
            case .noRunIfEmpty: break  // what pfutures always does
            case .colsep:
                do throws(ColumnSeparatorError) { columns = try ColumnSplitter(raw) } catch {
                    throw UsageError(message: "--colsep: '\(text)': \(error.reason)")
                }
            case .header:
                guard text == ":" else { throw UsageError(message: "--header: '\(text)' is not ':' (the first record names the columns)") }
                header = true
            case .link: linkSources = true
            case .shuffle: shuffle = true
            case .nice:
                guard let n = Int32(text), n >= -40, n <= 40 else {
                    throw UsageError(message: "--nice: '\(text)' is not a niceness from -40 to 40")
                }
                niceness = n
            case .shellTemplate: throughShell = true
            case .timeout where text.hasSuffix("%"):
                guard let p = Double(text.dropLast()), p > 0, p <= 1e6 else {
                    throw UsageError(message: "--timeout: '\(text)' is not a positive percentage")
                }
                timeoutPercent = p
            case .timeout: timeout = try Self.seconds(text, option: "--timeout")
            case .killAfter: killAfter = try Self.seconds(text, option: "--kill-after", allowZero: true)
            case .deadline: deadline = try Self.seconds(text, option: "--deadline")
            case .halt: halt = try Self.halt(text)
            case .initializer: initializer = raw
            case .progress, .eta: progress = progress ?? .counts
            case .bar: progress = .bar
            case .jobLog: jobLog = raw
            case .events: events = raw
            case .retries: retry.retries = try Self.count(text, option: "--retries", allowZero: true)
            case .retryOn: retry.exitCodes = try Self.exitCodes(text)
            case .retryDelay: retry.delay = try Self.seconds(text, option: "--retry-delay", allowZero: true)
            case .resume: resume = .all
            case .resumeFailed: resume = .succeededOnly
            case .delay: delay = try Self.seconds(text, option: "--delay", allowZero: true)
            case .load:
                guard let n = Double(text), n > 0, n.isFinite else {
                    throw UsageError(message: "--load: '\(text)' is not a positive number")
                }
                maxLoad = n
            case .memfree: minFreeMemory = try Self.size(text, option: "--memfree")
            case .preserve: copy?.preserveTimes = true
            case .parents: copy?.createParents = true
            case .noDereference: copy?.noDereference = true
            case .fsync: copy?.fsync = true
            case .group: outputMode = .group
            case .lineBuffer: outputMode = .lineBuffer
            case .ungroup: outputMode = .ungroup
            case .keepOrder: keepOrder = true
            case .tag: tag = true
            case .tagString:
                tagString = CommandTemplate(words: [raw], throughShell: false, namedColumns: true)
                tag = true
            case .results:
                guard !raw.isEmpty else { throw UsageError(message: "--results: needs a directory") }
                results = raw
            case .verbose: verbose = true
            case .dryRun: dryRun = true
            case .help, .usage, .version: break
            }
        }
        if copy != nil {
            guard parsed.rest.isEmpty else {
                throw UsageError(message: "copy: unexpected argument '\(String(decoding: parsed.rest[0], as: UTF8.self))' (pairs come from stdin or -a)")
            }
            if recordFormat == .nul { recordsPerJob = 2 }  // SRC NUL DST NUL
        }
        let command: [[UInt8]]
        (command, sources) = SourceSpec.split(parsed.rest)
        // With sources, -a FILE is one more (GNU parallel: like `:::: FILE` first).
        if let argFile, !sources.isEmpty { sources.insert(SourceSpec(.file(argFile)), at: 0) }
        // GNU parallel's idiom: one word that is a little shell script.
        if command.count == 1, Self.looksLikeShell(command[0]), !canRun(command[0]) { throughShell = true }
        if !command.isEmpty {
            template = CommandTemplate(words: command, recordToken: replaceToken ?? Array("{}".utf8),
                                       throughShell: throughShell, repeatPerWord: repeatPerWord, namedColumns: header)
        } else if packs {
            throw UsageError(message: "-\(repeatPerWord ? "X" : "m"): needs a COMMAND template")
        } else if throughShell {
            throw UsageError(message: "--shell-template: needs a COMMAND template")
        } else if replaceToken != nil {
            throw UsageError(message: "-I: needs a COMMAND template")
        }
        // pfutures packs records only when asked (-X, -m, -n N), unlike xargs.
        for (id, name) in [(OptionID.maxChars, "-s"), (.exitIfTooLong, "-x")]
        where !packs && !recordsPerJobGiven && parsed.has(id) {
            throw UsageError(message: "\(name): needs -X, -m or -n (records are packed into a job only with those)")
        }
        try checkRemote(parsed)
        try checkPipe(parsed)
        if pool == .process && !workerCapGiven { workerCap = processorCount }
        for (id, name) in [(OptionID.chunksize, "chunksize"), (.maxTasksPerChild, "max-tasks-per-child"),
                           (.workerTimeout, "worker-timeout")] where pool == .thread && parsed.has(id) {
            throw UsageError(message: "--\(name): needs --pool process")
        }
        if resume != .none && jobLog == nil {
            throw UsageError(message: "--\(resume == .all ? "resume" : "resume-failed"): needs --joblog FILE")
        }
        if jobLog == [0x2D] && resume != .none { throw UsageError(message: "--resume: needs a --joblog file, not -") }
        // Ungrouped output never passes through pfutures: it can be neither tagged nor ordered.
        if outputMode == .ungroup && (tag || keepOrder) {
            throw UsageError(message: "-u: output that goes straight to stdout cannot be \(tag ? "tagged (--tag)" : "ordered (-k)")")
        }
        // Ordered line output would have to hold lines anyway: group instead.
        if keepOrder && outputMode == .lineBuffer { outputMode = .group }
    }

    /// A path beneath $HOME as relative to it (GNU parallel's --workdir .),
    /// so it names the same place under each host's home directory; others as they are.
    private static func homeRelative(_ path: [UInt8]) -> [UInt8] {
        guard let home = getenv("HOME").map({ Array(String(cString: $0).utf8) }), home.count > 1 else { return path }
        let prefix = home.last == 0x2F ? home : home + [0x2F]
        guard path.starts(with: prefix) else { return path }
        let rest = Array(path.dropFirst(prefix.count))
        return rest.isEmpty ? [0x2E] : rest
    }

    /// --pipe's settings, and what cannot go with it.
    private mutating func checkPipe(_ parsed: ParsedCommandLine) throws {
        guard var format = pipe else {
            for (id, name) in [(OptionID.block, "--block"), (.recordEnd, "--recend"), (.recordStart, "--recstart"),
                               (.roundRobin, "--round-robin")]
                where parsed.has(id) {
                throw UsageError(message: "\(name): needs --pipe")
            }
            return
        }
        if let text = parsed.last(.block).map({ String(decoding: $0, as: UTF8.self) }) {
            format.blockSize = try Self.size(text, option: "--block")
            guard format.blockSize > 0 else { throw UsageError(message: "--block: '\(text)' is not a positive size") }
        }
        // GNU parallel: --recend defaults to a newline only when neither is given.
        let start = try parsed.last(.recordStart).map { try Self.escaped($0, option: "--recstart") }
        let end = try parsed.last(.recordEnd).map { try Self.escaped($0, option: "--recend") }
        format.recordStart = start ?? []
        format.recordEnd = end ?? (start != nil ? [] : recordFormat == .nul ? [0] : [recordFormat.delimiter])
        if format.recordEnd.isEmpty && format.recordStart.isEmpty {
            throw UsageError(message: "--recend: empty, and no --recstart: records could never be told apart")
        }
        if parsed.has(.recordsPerBlock) {
            if pipePart { throw UsageError(message: "-N: not with --pipepart (its blocks are byte ranges; use --block)") }
            format.recordsPerBlock = recordsPerJob
        }
        if pipePart && argFile == nil { throw UsageError(message: "--pipepart: needs -a FILE (a regular file)") }
        // Workers open the file themselves, maybe from another directory.
        if pipePart, let file = argFile, file.first != 0x2F { argFile = Self.currentDirectory() + [0x2F] + file }
        if roundRobin {
            // Its jobs share one stream of blocks inside pfutures.
            if pipePart { throw UsageError(message: "--round-robin: with --pipe, not --pipepart") }
            if pool == .process { throw UsageError(message: "--round-robin: runs its jobs from pfutures itself (--pool thread)") }
            if retry.retries > 1 { throw UsageError(message: "--round-robin: a job's blocks cannot be fed again (no --retries)") }
        }
        pipe = format
        if template.mode == .command { throw UsageError(message: "--pipe: needs a COMMAND to read the blocks") }
        for (id, name) in [(OptionID.maxArgs, "-n"), (.maxLines, "-L"), (.contextReplace, "-X"), (.multipleArgs, "-m"),
                           (.resume, "--resume"), (.resumeFailed, "--resume-failed"), (.results, "--results"),
                           (.header, "--header"), (.shuffle, "--shuf"), (.endOfFile, "-E")]
            where parsed.has(id) {
            throw UsageError(message: "\(name): not with --pipe (blocks are not arguments\(id == .maxArgs ? "; -N counts records per block" : ""))")
        }
        if !sources.isEmpty { throw UsageError(message: "--pipe: reads stdin or -a FILE, not ::: sources") }
        if copy != nil { throw UsageError(message: "--pipe: not with copy") }
        if pool == .process && format.blockSize > JobRunner.largestBlockForWorkers {
            throw UsageError(message: "--block: at most 60M with worker processes (--pool process, -S, --slurm)")
        }
        recordsPerJob = 1
    }

    /// A string option with C escapes (\n, \t, \r, \0, \\, \xHH, \NNN) as bytes.
    static func escaped(_ raw: [UInt8], option: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            guard raw[i] == 0x5C, i + 1 < raw.count else { out.append(raw[i]); i += 1; continue }
            let next = raw[i + 1]
            switch next {
            case 0x6E: out.append(0x0A); i += 2
            case 0x74: out.append(0x09); i += 2
            case 0x72: out.append(0x0D); i += 2
            case 0x5C: out.append(0x5C); i += 2
            case 0x78:
                let digits = raw[(i + 2)...].prefix(2).prefix { (0x30...0x39).contains($0) || (0x41...0x46).contains($0 & 0xDF) }
                guard let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 16) else {
                    throw UsageError(message: "\(option): '\\x' needs hex digits")
                }
                out.append(value)
                i += 2 + digits.count
            case 0x30...0x37:
                let digits = raw[(i + 1)...].prefix(3).prefix { (0x30...0x37).contains($0) }
                let value = Int(String(decoding: digits, as: UTF8.self), radix: 8) ?? 0
                guard value < 256 else { throw UsageError(message: "\(option): octal escape over 255") }
                out.append(UInt8(value))
                i += 1 + digits.count
            default: out.append(raw[i]); i += 1
            }
        }
        return out
    }

    /// pfutures' working directory, as bytes.
    private static func currentDirectory() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let found = buffer.withUnsafeMutableBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { getcwd($0.baseAddress, $0.count) != nil }
        }
        guard found, let end = buffer.firstIndex(of: 0) else { return [0x2E] }
        return Array(buffer[..<end])
    }

    /// Jobs on other hosts run in worker processes; the host options go together.
    private mutating func checkRemote(_ parsed: ParsedCommandLine) throws {
        guard remote.isRequested else {
            for (id, name) in [(OptionID.launcher, "launcher"), (.remotePfutures, "remote-pfutures"), (.ssh, "ssh")]
                where parsed.has(id) {
                throw UsageError(message: "--\(name): needs hosts (-S, --sshloginfile or --slurm)")
            }
            return
        }
        if parsed.has(.pool) && pool == .thread {
            throw UsageError(message: "--pool thread: jobs on other hosts run in worker processes (--pool process)")
        }
        if remote.slurm && (!remote.logins.isEmpty || !remote.loginFiles.isEmpty) {
            throw UsageError(message: "--slurm: cannot be combined with -S or --sshloginfile")
        }
        if remote.slurm && remote.launcher != nil {
            throw UsageError(message: "--launcher: replaces ssh for -S hosts; --slurm starts its workers with srun")
        }
        pool = .process
    }

    /// A space or a shell operator: the word is a script, not a program name.
    static func looksLikeShell(_ word: [UInt8]) -> Bool {
        word.contains { Array(" \t\n|&;<>()$`\\\"'".utf8).contains($0) }
    }

    static func workerCap(_ text: String, option: OptionID) throws -> Int {
        let name = option == .jobs ? "--jobs" : option == .maxProcs ? "--max-procs" : "--max-workers"
        if text.hasSuffix("%") {
            let percent = min(try count(String(text.dropLast()), option: name, allowZero: false), 1_000_000)
            return max(1, processorCount * percent / 100)
        }
        // GNU parallel: +N and -N are relative to the number of cores.
        if let sign = text.first, sign == "+" || sign == "-" {
            let n = min(try count(String(text.dropFirst()), option: name, allowZero: true), 1_000_000)
            return max(1, sign == "+" ? processorCount + n : processorCount - n)
        }
        let n = try count(text, option: name, allowZero: true)
        return n == 0 ? Int.max : n
    }

    static func count(_ text: String, option: String, allowZero: Bool) throws -> Int {
        guard let n = Int(text), n >= (allowZero ? 0 : 1) else {
            throw UsageError(message: "\(option): '\(text)' is not a \(allowZero ? "non-negative" : "positive") whole number")
        }
        return n
    }

    /// A duration as GNU parallel writes them: seconds (`2.5`), or numbers
    /// with units `s`, `m`, `h`, `d`, also combined (`1h30m`).
    static func seconds(_ text: String, option: String, allowZero: Bool = false) throws -> Duration {
        guard let value = durationSeconds(text), value.isFinite, allowZero ? value >= 0 : value > 0, value < 1e9 else {
            throw UsageError(message: "\(option): '\(text)' is not a \(allowZero ? "" : "positive ")duration "
                             + "(seconds, or with units: 30s, 5m, 2h, 1d, 1h30m)")
        }
        return .nanoseconds(Int64(value * 1e9))
    }

    private static func durationSeconds(_ text: String) -> Double? {
        if let plain = Double(text) { return plain }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var total = 0.0
        var number = ""
        for character in text {
            if let unit = units[character] {
                guard let value = Double(number), value >= 0 else { return nil }
                total += value * unit
                number = ""
            } else if character.isASCII && (character.isNumber || character == ".") {
                number.append(character)
            } else {
                return nil
            }
        }
        return number.isEmpty && !text.isEmpty ? total : nil
    }

    /// One byte, or an escape as xargs takes them: `\n`, `\t`, `\r`, `\\`,
    /// `\0`, octal `\012`, hex `\x41`.
    static func delimiter(_ raw: [UInt8]) throws -> UInt8 {
        let text = String(decoding: raw, as: UTF8.self)
        let bad = UsageError(message: "--delimiter: '\(text)' is not one byte or an escape (\\n, \\t, \\0, \\\\, \\012, \\x41)")
        if raw.count == 1 { return raw[0] }
        guard raw.first == 0x5C, raw.count >= 2 else { throw bad }
        let rest = String(decoding: raw.dropFirst(), as: UTF8.self)
        switch rest {
        case "n": return 0x0A
        case "t": return 0x09
        case "r": return 0x0D
        case "\\": return 0x5C
        default: break
        }
        if rest.hasPrefix("x"), rest.count <= 3, let value = UInt8(rest.dropFirst(), radix: 16) { return value }
        if rest.count <= 3, rest.allSatisfy({ ("0"..."7").contains($0) }), let value = Int(rest, radix: 8), value < 256 {
            return UInt8(value)
        }
        throw bad
    }

    /// "1,2,75-78" as a set of exit statuses.
    static func exitCodes(_ text: String) throws -> Set<Int32> {
        var codes: Set<Int32> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { Int32($0) }
            guard bounds.count <= 2, let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                  low >= 0, high <= 255, low <= high else {
                throw UsageError(message: "--retry-on: '\(text)' is not a list of exit statuses like 1,75-78")
            }
            codes.formUnion(low...high)
        }
        return codes
    }

    /// "512M", "2G", "100000" (bytes) as bytes.
    static func size(_ text: String, option: String) throws -> Int {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = text.uppercased()
        if digits.hasSuffix("B") { digits.removeLast() }
        var multiplier = 1
        if let last = digits.last, let unit = units[last] { multiplier = unit; digits.removeLast() }
        // Sizes past 2^62 bytes would overflow Int: no machine has them.
        guard let value = Double(digits), value >= 0, value.isFinite, value * Double(multiplier) < 0x1p62 else {
            throw UsageError(message: "\(option): '\(text)' is not a size like 512M or 2G")
        }
        return Int(value * Double(multiplier))
    }

    /// `soon`, `now`, `never`, `WHEN,fail=N`, `WHEN,success=P%`, `WHEN,done=N`,
    /// and GNU parallel's old numbers (0 never, 1 soon, 2 now).
    static func halt(_ text: String) throws -> HaltPolicy? {
        let usage = "--halt: '\(text)' is not soon, now or never, optionally with ,fail=N, ,success=N or ,done=N (N or P%)"
        let parts = text.split(separator: ",", maxSplits: 1).map(String.init)
        let when: HaltPolicy.When
        switch parts.first {
        case "never", "0": return nil
        case "soon", "1": when = .soon
        case "now", "2": when = .now
        default: throw UsageError(message: usage)
        }
        guard parts.count == 2 else { return HaltPolicy(when: when, counting: .fail, count: 1, percent: nil) }
        let condition = parts[1].split(separator: "=", maxSplits: 1).map(String.init)
        let countings: [String: HaltPolicy.Counting] = ["fail": .fail, "success": .success, "done": .done]
        guard condition.count == 2, let counting = countings[condition[0]] else { throw UsageError(message: usage) }
        if condition[1].hasSuffix("%") {
            guard let p = Double(condition[1].dropLast()), p > 0, p <= 100 else { throw UsageError(message: usage) }
            return HaltPolicy(when: when, counting: counting, count: nil, percent: p)
        }
        guard let n = Int(condition[1]), n > 0 else { throw UsageError(message: usage) }
        return HaltPolicy(when: when, counting: counting, count: n, percent: nil)
    }
}
