// The entry point behind the `pfutures` executable: picks the subcommand,
// turns usage errors into one line plus a hint, and returns the exit status.
import Jobs
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// pfutures' command line, callable from the thin executable.
public enum PfuturesMain {
    /// Runs pfutures with `arguments` (argv without the program name), as bytes.
    public static func main(_ arguments: [[UInt8]]) -> Int32 {
        if arguments.first == OrphanGuard.argument { return OrphanGuard.serve() }
        if arguments.first == Array(WorkerServer.argument.utf8) {
            return WorkerServer.serve(tasks: [Job.self, InitializerJob.self])
        }
        if arguments.first == Array(Completions.argument.utf8) {
            guard arguments.count == 2, let script = Completions.script(for: String(decoding: arguments[1], as: UTF8.self)) else {
                return usageError("\(Completions.argument): bash, zsh or fish", hint: "pfutures --help")
            }
            print(script, terminator: "")
            return ExitStatus.success
        }
        guard let word = arguments.first.map({ String(decoding: $0, as: UTF8.self) }) else {
            return usageError("missing subcommand", hint: "pfutures --help")
        }
        switch word {
        case "--help", "-h", "help":
            printOverview()
            return ExitStatus.success
        case "--version", "-V":
            print("pfutures \(pfuturesVersion)")
            return ExitStatus.success
        default: break
        }
        guard let subcommand = Subcommand(rawValue: word) else {
            return usageError(word.hasPrefix("-") ? "\(word): unknown option" : "\(word): unknown subcommand",
                              hint: "pfutures --help")
        }
        let hint = "pfutures \(subcommand.rawValue) --help"
        do {
            let parsed = try OptionParser.parse(arguments, for: subcommand)
            if parsed.has(.version) {
                print("pfutures \(pfuturesVersion)")
                return ExitStatus.success
            }
            var command = RunCommand(config: try RunConfiguration(parsed, subcommand: subcommand))
            return command.execute()
        } catch let error as UsageError {
            return usageError(error.message, hint: hint)
        } catch {
            return ExitStatus.success  // --help or --usage was printed
        }
    }

    private static func usageError(_ message: String, hint: String) -> Int32 {
        reportError("\(message) (try '\(hint)')")
        return ExitStatus.usage
    }

    private static func printOverview() {
        print("""
        pfutures \(pfuturesVersion): run jobs in parallel, xargs-style

        Usage:
          pfutures run  [OPTIONS] [--] [COMMAND [INITIAL-ARGS...]]
          pfutures copy [OPTIONS] < pairs      (SRC<TAB>DST lines, or -0)
          pfutures --help | --version

        Without COMMAND each input line is a shell command. With COMMAND each
        input record becomes its last argument, or fills {} and friends.
        'pfutures copy' copies files in parallel inside pfutures, atomically.
        'pfutures run --help' and 'pfutures copy --help' list the options;
        'man pfutures' has the rest.
        """)
    }
}
