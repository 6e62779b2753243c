// Stage one of parsing: the command line through popt (via CPopt) into raw
// option values and the remaining words, with no I/O beyond --help output.
import CPopt
#if canImport(Glibc)
import Glibc
#endif

/// What popt found on the command line, as typed.
struct ParsedCommandLine {
    /// Each option's values in order of appearance, as bytes (a flag has an empty value).
    var values: [(OptionID, [UInt8])] = []
    /// The words after the options, as bytes (COMMAND and its arguments).
    var rest: [[UInt8]] = []

    func has(_ id: OptionID) -> Bool { values.contains { $0.0 == id } }
    /// The last value given for `id`, if any.
    func last(_ id: OptionID) -> [UInt8]? { values.last { $0.0 == id }?.1 }
}

/// A command-line mistake; printed as one line plus a usage hint, exit 1.
struct UsageError: Error, Equatable {
    let message: String
}

/// What parsing asks the caller to do instead of running.
enum EarlyExit: Error {
    case printedHelp
}

enum OptionParser {
    /// Parses `arguments` (starting with the subcommand word) for `subcommand`.
    /// - Throws: `UsageError`, or `EarlyExit` after printing --help/--usage.
    static func parse(_ arguments: [[UInt8]], for subcommand: Subcommand) throws -> ParsedCommandLine {
        let specs = OptionTable.options(for: subcommand)
        // The words popt reads must outlive the parser: keep them in one storage.
        var cStrings: [UnsafeMutablePointer<CChar>?] = []
        defer { for pointer in cStrings { free(pointer) } }
        func keepBytes(_ bytes: [UInt8]) -> UnsafePointer<CChar>? {
            let copy = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
            bytes.withUnsafeBytes { raw in
                for (i, byte) in raw.enumerated() { copy[i] = CChar(bitPattern: byte) }
            }
            copy[bytes.count] = 0
            cStrings.append(copy)
            return UnsafePointer(copy)
        }
        // The table's texts are static strings: popt reads them in place.
        func cString(_ text: StaticString?) -> UnsafePointer<CChar>? {
            text.map { UnsafeRawPointer($0.utf8Start).assumingMemoryBound(to: CChar.self) }
        }
        let table = specs.map { spec in
            cpopt_spec(long_name: cString(spec.longName), short_name: spec.short.map { CChar(truncatingIfNeeded: $0.value) } ?? 0,
                       takes_argument: spec.takesValue ? 1 : 0, id: spec.id.rawValue,
                       help: cString(spec.helpText), arg_name: cString(spec.valueName))
        }
        var argv: [UnsafePointer<CChar>?] = [cString(subcommand.programName)]
        argv += try OptionSpelling.expandingPrefixes(Array(arguments.dropFirst()), options: specs).map(keepBytes)
        argv.append(nil)
        guard let parser = cpopt_new(Int32(argv.count - 1), argv, table, Int32(table.count),
                                     cString(OptionTable.trailingUsage(for: subcommand))) else {
            throw UsageError(message: "cannot parse the command line (out of memory)")
        }
        defer { cpopt_free(parser) }

        var parsed = ParsedCommandLine()
        while true {
            var value: UnsafePointer<CChar>?
            let code = cpopt_next(parser, &value)
            if code == 0 { break }
            if code < 0 {
                let bad = cpopt_bad_option(parser).map { String(cString: $0) } ?? "?"
                let reason = String(cString: cpopt_strerror(code))
                var message = code == -11 ? "\(bad): unknown option" : "\(bad): \(reason.lowercased())"
                if code == -11, let guess = OptionSpelling.suggestion(for: bad, options: specs) { message += "; did you mean \(guess)?" }
                throw UsageError(message: message)
            }
            guard let id = OptionID(rawValue: code) else { continue }
            switch id {
            case .help:
                cpopt_print_help(parser)
                print(OptionTable.helpEpilogue(for: subcommand), terminator: "")
                throw EarlyExit.printedHelp
            case .usage: cpopt_print_usage(parser); throw EarlyExit.printedHelp
            default: parsed.values.append((id, value.map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) } ?? []))
            }
        }
        var count: Int32 = 0
        if let rest = cpopt_rest(parser, &count) {
            for i in 0..<Int(count) {
                let word = rest[i]!
                parsed.rest.append(Array(UnsafeRawBufferPointer(start: word, count: strlen(word))))
            }
        }
        return parsed
    }
}
