// Every option of pfutures, defined once: names, value, help text and the
// subcommands that take it. popt's table and --help are built from this list,
// and a test checks man/pfutures.1 against it.

/// The identity of an option, as popt hands it back.
enum OptionID: Int32, CaseIterable, Sendable {
    case jobs = 1, maxProcs, maxWorkers
    case argFile, null, delimiter
    case shell, replace, maxArgs, shellTemplate
    case tagString, results, nice, shuffle, bar, eta
    case colsep, header, link, contextReplace, multipleArgs, maxChars, maxLines, exitIfTooLong, endOfFile, noRunIfEmpty
    case timeout, killAfter, deadline, halt, initializer
    case group, lineBuffer, ungroup, keepOrder, tag, verbose, dryRun, progress
    case jobLog, events, retries, retryOn, retryDelay, resume, resumeFailed
    case delay, load, memfree
    case preserve, parents, noDereference, fsync
    case pool, chunksize, maxTasksPerChild, workerTimeout
    case sshLogin, sshLoginFile, ssh, slurm, launcher, remotePfutures, env, workdir
    case pipe, pipePart, roundRobin, block, recordEnd, recordStart, recordsPerBlock
    case help, usage, version
}

/// One option's definition. Names and texts are static strings: popt reads
/// them in place as C strings, so parsing a command line copies none of them.
struct OptionSpec: Sendable {
    let id: OptionID
    let longName: StaticString?
    let short: Unicode.Scalar?
    /// The value's placeholder (`N`, `FILE`), or nil for a flag.
    let valueName: StaticString?
    let helpText: StaticString
    /// The subcommands that take it.
    let commands: Commands

    init(id: OptionID, long: StaticString?, short: Unicode.Scalar?, value: StaticString?, help: StaticString,
         commands: Commands = [.run, .copy]) {
        self.id = id
        self.longName = long
        self.short = short
        self.valueName = value
        self.helpText = help
        self.commands = commands
    }

    var long: String? { longName?.description }
    var value: String? { valueName?.description }
    var help: String { helpText.description }
    var takesValue: Bool { valueName != nil }

    /// The long name's bytes, without the dashes.
    var longBytes: UnsafeBufferPointer<UInt8>? {
        longName.map { UnsafeBufferPointer(start: $0.utf8Start, count: $0.utf8CodeUnitCount) }
    }
}

/// A set of subcommands, as bits: the table is built at every start-up.
struct Commands: OptionSet, Sendable {
    let rawValue: UInt8
    static let run = Commands(rawValue: 1)
    static let copy = Commands(rawValue: 2)

    func contains(_ subcommand: Subcommand) -> Bool {
        contains(subcommand == .run ? Commands.run : Commands.copy)
    }
}

/// The subcommands of pfutures.
enum Subcommand: String, Sendable, CaseIterable {
    case run, copy

    /// How --help names the program, as popt reads it.
    var programName: StaticString {
        switch self {
        case .run: return "pfutures run"
        case .copy: return "pfutures copy"
        }
    }
}

enum OptionTable {
    static let all: [OptionSpec] = [
        OptionSpec(id: .jobs, long: "jobs", short: "j", value: "N",
                   help: "run at most N jobs at once; 0 = no cap, N% = percent of cores, +N/-N = cores plus/minus N (default: min(32, cores+4); cores with --pool process)"),
        OptionSpec(id: .maxProcs, long: "max-procs", short: "P", value: "N", help: "same as --jobs (xargs spelling)"),
        OptionSpec(id: .maxWorkers, long: "max-workers", short: nil, value: "N",
                   help: "same as --jobs (concurrent.futures spelling)"),
        OptionSpec(id: .pool, long: "pool", short: nil, value: "KIND",
                   help: "thread (default): workers are threads of pfutures; process: long-lived worker processes"),
        OptionSpec(id: .chunksize, long: "chunksize", short: nil, value: "N",
                   help: "with --pool process: send N jobs to a worker at a time (default: 1)"),
        OptionSpec(id: .maxTasksPerChild, long: "max-tasks-per-child", short: nil, value: "N",
                   help: "with --pool process: replace a worker process after N jobs"),
        OptionSpec(id: .workerTimeout, long: "worker-timeout", short: nil, value: "SECONDS",
                   help: "with --pool process: a worker silent this long is dead and its jobs lost (default: 5)"),
        OptionSpec(id: .sshLogin, long: "sshlogin", short: "S", value: "LOGINS",
                   help: "run jobs on other hosts over ssh: [N/][user@]HOST[:PORT], comma-separated, ':' = this machine, N = job slots (default: its cores, or -j)"),
        OptionSpec(id: .sshLoginFile, long: "sshloginfile", short: nil, value: "FILE",
                   help: "read ssh logins from FILE, one a line (# starts a comment)"),
        OptionSpec(id: .ssh, long: "ssh", short: nil, value: "CMD",
                   help: "the ssh command for -S hosts, split at spaces (default: ssh), e.g. 'ssh -F my_config'"),
        OptionSpec(id: .slurm, long: "slurm", short: nil, value: nil,
                   help: "inside a Slurm allocation: one worker per allocated node, started with srun, slots = its CPUs"),
        OptionSpec(id: .launcher, long: "launcher", short: nil, value: "CMD",
                   help: "start each host's worker with the shell command CMD instead of ssh ({host} = the host)"),
        OptionSpec(id: .remotePfutures, long: "remote-pfutures", short: nil, value: "PATH",
                   help: "the pfutures program on the other hosts (default: pfutures; with --slurm, this one)"),
        OptionSpec(id: .env, long: "env", short: nil, value: "NAME",
                   help: "give jobs pfutures' value of the variable NAME, also on other hosts (repeatable)", commands: [.run]),
        OptionSpec(id: .workdir, long: "workdir", short: nil, value: "DIR",
                   help: "run jobs in DIR, also on other hosts; a relative DIR is taken from pfutures' directory (default: here; over ssh: the login directory)",
                   commands: [.run]),
        OptionSpec(id: .argFile, long: "arg-file", short: "a", value: "FILE",
                   help: "read records from FILE instead of stdin; jobs then inherit stdin"),
        OptionSpec(id: .null, long: "null", short: "0", value: nil, help: "records end with NUL, not newline"),
        OptionSpec(id: .delimiter, long: "delimiter", short: "d", value: "C",
                   help: "records end with the byte C (\\n, \\t, \\0, \\\\, octal \\012, hex \\x41 accepted)", commands: [.run]),
        OptionSpec(id: .pipe, long: "pipe", short: nil, value: nil,
                   help: "cut stdin into blocks between records and give each job one block on its stdin", commands: [.run]),
        OptionSpec(id: .pipePart, long: "pipepart", short: nil, value: nil,
                   help: "as --pipe, for a regular file given with -a: each job reads its own byte range of it", commands: [.run]),
        OptionSpec(id: .roundRobin, long: "round-robin", short: nil, value: nil,
                   help: "with --pipe: start -j jobs once and feed each many blocks, to whichever is ready", commands: [.run]),
        OptionSpec(id: .block, long: "block", short: nil, value: "SIZE",
                   help: "with --pipe: blocks of about SIZE bytes, cut at the next record end (K, M, G suffixes; default: 1M)",
                   commands: [.run]),
        OptionSpec(id: .recordEnd, long: "recend", short: nil, value: "STR",
                   help: "with --pipe: what ends a record (default: \\n; escapes \\n \\t \\0 \\xHH)", commands: [.run]),
        OptionSpec(id: .recordStart, long: "recstart", short: nil, value: "STR",
                   help: "with --pipe: what starts a record (default: nothing)", commands: [.run]),
        OptionSpec(id: .recordsPerBlock, long: nil, short: "N", value: "N",
                   help: "with --pipe: N records per block; otherwise the same as -n", commands: [.run]),
        OptionSpec(id: .shell, long: "shell", short: nil, value: "PATH",
                   help: "shell for command mode and --shell-template (default: /bin/sh)", commands: [.run]),
        OptionSpec(id: .replace, long: nil, short: "I", value: "STR",
                   help: "use STR instead of {} as the record's replacement string", commands: [.run]),
        OptionSpec(id: .maxArgs, long: "max-args", short: "n", value: "N", help: "put up to N records in each job", commands: [.run]),
        OptionSpec(id: .shellTemplate, long: "shell-template", short: nil, value: nil,
                   help: "run COMMAND through the shell, each record single-quoted", commands: [.run]),
        OptionSpec(id: .contextReplace, long: nil, short: "X", value: nil,
                   help: "pack as many records as fit into each job; a word with {} in it is repeated per record",
                   commands: [.run]),
        OptionSpec(id: .multipleArgs, long: nil, short: "m", value: nil,
                   help: "pack as many records as fit into each job; {} stands for all of them", commands: [.run]),
        OptionSpec(id: .maxChars, long: "max-chars", short: "s", value: "N",
                   help: "with -X/-m/-n: at most N bytes of command line per job (default: 128 KiB; never over the kernel's limit)",
                   commands: [.run]),
        OptionSpec(id: .maxLines, long: "max-lines", short: "L", value: "N",
                   help: "put up to N records (input lines) in each job, as -n", commands: [.run]),
        OptionSpec(id: .exitIfTooLong, long: "exit", short: "x", value: nil,
                   help: "with -X/-m/-n: stop when a record does not fit into a command line", commands: [.run]),
        OptionSpec(id: .endOfFile, long: nil, short: "E", value: "STR",
                   help: "input ends at a record equal to STR", commands: [.run]),
        OptionSpec(id: .noRunIfEmpty, long: "no-run-if-empty", short: "r", value: nil,
                   help: "accepted for xargs: empty input never runs a job", commands: [.run]),
        OptionSpec(id: .shuffle, long: "shuf", short: nil, value: nil,
                   help: "run the jobs in random order (reads all records first)", commands: [.run]),
        OptionSpec(id: .nice, long: "nice", short: nil, value: "N",
                   help: "run jobs with niceness raised by N, as nice -n N (pfutures too)"),
        OptionSpec(id: .colsep, long: "colsep", short: nil, value: "SEP",
                   help: "split each record into columns {1}, {2}, ... at SEP (a regular expression)", commands: [.run]),
        OptionSpec(id: .header, long: "header", short: nil, value: ":",
                   help: "the first record (or the first value of each ::: source) names the columns: {name}",
                   commands: [.run]),
        OptionSpec(id: .link, long: "link", short: nil, value: nil,
                   help: "pair the ::: sources element by element (shorter ones wrap) instead of combining them",
                   commands: [.run]),
        OptionSpec(id: .timeout, long: "timeout", short: nil, value: "SECONDS",
                   help: "stop a job that runs longer (or P% of the median runtime): SIGTERM to its process group, SIGKILL after --kill-after"),
        OptionSpec(id: .killAfter, long: "kill-after", short: nil, value: "SECONDS",
                   help: "grace between SIGTERM and SIGKILL when stopping a job (default: 2)", commands: [.run]),
        OptionSpec(id: .deadline, long: "deadline", short: nil, value: "SECONDS",
                   help: "limit for the whole run: then cancel pending jobs, stop running ones, exit 122"),
        OptionSpec(id: .halt, long: "halt", short: nil, value: "WHEN",
                   help: "after a failed job: soon (start no more) or now (also stop running); add ,fail=N, ,success=N or ,done=N (N or P%)"),
        OptionSpec(id: .initializer, long: "initializer", short: nil, value: "CMD",
                   help: "shell command run once in each worker before its first job; if it fails, no job runs (exit 1)", commands: [.run]),
        OptionSpec(id: .group, long: "group", short: nil, value: nil,
                   help: "write each job's output as whole blocks when it ends (default)", commands: [.run]),
        OptionSpec(id: .lineBuffer, long: "line-buffer", short: nil, value: nil,
                   help: "pass output on as whole lines as they come", commands: [.run]),
        OptionSpec(id: .lineBuffer, long: "lb", short: nil, value: nil,
                   help: "same as --line-buffer (GNU parallel's short spelling)", commands: [.run]),
        OptionSpec(id: .ungroup, long: "ungroup", short: "u", value: nil,
                   help: "jobs write straight to stdout and stderr (fastest, may mix)", commands: [.run]),
        OptionSpec(id: .keepOrder, long: "keep-order", short: "k", value: nil,
                   help: "write output in input order (default: completion order)", commands: [.run]),
        OptionSpec(id: .tag, long: "tag", short: nil, value: nil, help: "prefix each output line with the record and a TAB", commands: [.run]),
        OptionSpec(id: .tagString, long: "tagstring", short: nil, value: "STR",
                   help: "prefix each output line with STR (replacement strings filled in) and a TAB", commands: [.run]),
        OptionSpec(id: .results, long: "results", short: nil, value: "DIR",
                   help: "also save each job's stdout, stderr and seq under DIR, in GNU parallel's layout", commands: [.run]),
        OptionSpec(id: .verbose, long: "verbose", short: "t", value: nil, help: "print each command on stderr before it runs"),
        OptionSpec(id: .dryRun, long: "dry-run", short: nil, value: nil, help: "print the commands on stdout, run nothing"),
        OptionSpec(id: .progress, long: "progress", short: nil, value: nil,
                   help: "show done/running/failed/read, elapsed time, rate and ETA on stderr"),
        OptionSpec(id: .eta, long: "eta", short: nil, value: nil,
                   help: "same as --progress (GNU parallel spelling; the ETA shows once input has ended)"),
        OptionSpec(id: .bar, long: "bar", short: nil, value: nil,
                   help: "show a progress bar on stderr: share done, done/read, elapsed time, ETA"),
        OptionSpec(id: .jobLog, long: "joblog", short: nil, value: "FILE",
                   help: "log each finished job to FILE (- for stderr), in GNU parallel's columns"),
        OptionSpec(id: .events, long: "events", short: nil, value: "FILE",
                   help: "write job life-cycle events to FILE (- for stderr) as JSON Lines"),
        OptionSpec(id: .retries, long: "retries", short: nil, value: "N",
                   help: "run a failed job up to N times in all (GNU parallel: --retries 3 is the first run and two more)"),
        OptionSpec(id: .retryOn, long: "retry-on", short: nil, value: "CODES",
                   help: "retry only these exit statuses (e.g. 1,75-78)"),
        OptionSpec(id: .retryDelay, long: "retry-delay", short: nil, value: "SECONDS",
                   help: "wait SECONDS before the first retry, doubling each time"),
        OptionSpec(id: .resume, long: "resume", short: nil, value: nil,
                   help: "skip jobs whose command the --joblog already records"),
        OptionSpec(id: .resumeFailed, long: "resume-failed", short: nil, value: nil,
                   help: "like --resume, but run again the jobs that failed"),
        OptionSpec(id: .delay, long: "delay", short: nil, value: "SECONDS",
                   help: "leave at least SECONDS between two job starts"),
        OptionSpec(id: .load, long: "load", short: nil, value: "N",
                   help: "start no job while the 1-minute load average is above N"),
        OptionSpec(id: .memfree, long: "memfree", short: nil, value: "SIZE",
                   help: "start no job while available memory is below SIZE (K, M, G suffixes)"),
        OptionSpec(id: .preserve, long: "preserve", short: nil, value: nil,
                   help: "also keep access and modification times (like shutil.copy2)", commands: [.copy]),
        OptionSpec(id: .parents, long: "parents", short: nil, value: nil,
                   help: "create missing destination directories", commands: [.copy]),
        OptionSpec(id: .noDereference, long: "no-dereference", short: nil, value: nil,
                   help: "copy a symbolic link itself, not the file it points to", commands: [.copy]),
        OptionSpec(id: .fsync, long: "fsync", short: nil, value: nil,
                   help: "flush each new file to disk before renaming it into place", commands: [.copy]),
        OptionSpec(id: .help, long: "help", short: "h", value: nil, help: "show this help and exit"),
        OptionSpec(id: .usage, long: "usage", short: nil, value: nil, help: "show a short usage line and exit"),
        OptionSpec(id: .version, long: "version", short: "V", value: nil, help: "show the version and exit"),
    ]

    /// The options `subcommand` accepts, in table order.
    static func options(for subcommand: Subcommand) -> [OptionSpec] {
        all.filter { $0.commands.contains(subcommand) }
    }

    /// What `--help` shows after the options.
    static func helpEpilogue(for subcommand: Subcommand) -> String {
        switch subcommand {
        case .run:
            return """

            Replacement strings (in COMMAND; without any, the record is appended):
              {}     the record              {.}    without its extension
              {/}    the basename            {//}   the dirname
              {/.}   basename, no extension  {#}    the job's number   {%}  its slot
              {N}    value N (source N, or column N with --colsep); also {N.} {N/} {N//} {N/.}
              {name} a column named by --header :

            Examples:
              find . -name '*.log' -print0 | pfutures run -0 -j8 gzip
              pfutures run -k convert {} {.}.png ::: *.jpg
              pfutures run 'wc -l < {}' < files.txt
              find . -print0 | pfutures run -0 -X rm -f
              pfutures run --joblog log --resume --retries 3 --timeout 5m ./job < inputs

            """
        case .copy:
            return """

            Examples:
              find src -type f -printf '%p\\tdst/%P\\n' | pfutures copy --parents -j8
              pfutures copy --preserve --joblog copies.log < pairs.tsv

            """
        }
    }

    /// What follows the options in the usage line.
    static func trailingUsage(for subcommand: Subcommand) -> StaticString {
        switch subcommand {
        case .run: return "[OPTIONS] [--] [COMMAND [INITIAL-ARGS...]] [::: ARGS... | :::: FILES...]..."
        case .copy: return "[OPTIONS] (records: SRC<TAB>DST lines, or SRC NUL DST NUL with -0)"
        }
    }
}

/// The version `--version` prints.
let pfuturesVersion = "0.1.0"
