// Turns records into what a job executes: command mode (the record is a shell
// command), template mode (records become arguments of COMMAND, exec'd
// directly) and shell-template mode (the template runs through the shell with
// each value single-quoted). Replacement strings are GNU parallel's: `{}`,
// `{.}`, `{/}`, `{//}`, `{/.}`, `{#}`, `{%}`, `{N}` and its forms, and
// `{name}` with --header. Pure byte manipulation, no I/O.

/// What one job executes, before a program path is resolved.
package enum Invocation: Sendable, Equatable {
    /// Run `argv[0]` with `argv`, found on PATH when it has no slash.
    case exec(argv: [[UInt8]])
    /// Run `shell -c script`.
    case shell(script: [UInt8])
}

/// How a replacement string shapes a path-like value: `{}`, `{.}`, `{/}`,
/// `{//}`, `{/.}` (and the same after a column number: `{2/.}`).
enum PathForm: Sendable, Equatable {
    case whole, withoutExtension, basename, dirname, basenameWithoutExtension

    /// The form a replacement string's suffix names ("", ".", "/", "//", "/.").
    init?(suffix: ArraySlice<UInt8>) {
        switch Array(suffix) {
        case []: self = .whole
        case [0x2E]: self = .withoutExtension
        case [0x2F]: self = .basename
        case [0x2F, 0x2F]: self = .dirname
        case [0x2F, 0x2E]: self = .basenameWithoutExtension
        default: return nil
        }
    }

    func apply(to value: [UInt8]) -> [UInt8] {
        switch self {
        case .whole: return value
        case .withoutExtension: return Self.stripExtension(value)
        case .basename: return Self.basename(value)
        case .dirname:
            guard let slash = value.lastIndex(of: 0x2F) else { return [0x2E] }
            return slash == 0 ? [0x2F] : Array(value[..<slash])
        case .basenameWithoutExtension: return Self.stripExtension(Self.basename(value))
        }
    }

    static func basename(_ path: [UInt8]) -> [UInt8] {
        guard let slash = path.lastIndex(of: 0x2F) else { return path }
        return Array(path[(slash + 1)...])
    }

    /// Drops the last `.ext` of the final path component; a leading dot
    /// (`.bashrc`) is part of the name, not an extension.
    static func stripExtension(_ path: [UInt8]) -> [UInt8] {
        let nameStart = (path.lastIndex(of: 0x2F) ?? -1) + 1
        guard let dot = path.lastIndex(of: 0x2E), dot > nameStart else { return path }
        return Array(path[..<dot])
    }
}

/// A replacement string of the template language.
enum Replacement: Sendable, Equatable {
    /// `{}` (or the -I string) and its forms: every word of the job's records.
    case words(PathForm)
    /// `{N}` and its forms: the job's value N (1-based), empty if it has fewer.
    case column(Int, PathForm)
    /// `{name}` with `--header`: a column once the header names it.
    case named([UInt8], PathForm, text: [UInt8])
    case sequence  // {#}
    case slot      // {%}
}

/// What a job's records give its template, gathered once per job.
struct JobValues {
    let words: [[UInt8]]
    let columns: [[UInt8]]
    let sequence: Int
    let slot: Int

    init(_ records: [InputRecord], sequence: Int, slot: Int) {
        if records.allSatisfy({ $0.single != nil }) {
            words = records.map { $0.single! }
            columns = words
        } else {
            words = records.flatMap(\.words)
            columns = records.flatMap(\.columns)
        }
        self.sequence = sequence
        self.slot = slot
    }
}

/// One word of the template, split into literal bytes and replacements.
struct TemplateWord: Sendable, Equatable {
    enum Piece: Sendable, Equatable { case literal([UInt8]), replacement(Replacement) }
    var pieces: [Piece]

    var replacements: [Replacement] { pieces.compactMap { if case .replacement(let r) = $0 { r } else { nil } } }

    /// The whole word is `{}` or one of its forms.
    var soleWords: PathForm? {
        if pieces.count == 1, case .replacement(.words(let form)) = pieces[0] { return form }
        return nil
    }

    var usesWords: Bool { replacements.contains { if case .words = $0 { true } else { false } } }

    /// - Parameters: recordToken: what stands for the record (`{}` or -I's
    ///   string); names: whether `{name}` may name a column (`--header`).
    static func parse(_ word: [UInt8], recordToken: [UInt8], names: Bool) -> TemplateWord {
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        func add(_ replacement: Replacement) {
            if !literal.isEmpty { pieces.append(.literal(literal)); literal = [] }
            pieces.append(.replacement(replacement))
        }
        let braces = recordToken == Array("{}".utf8)
        var i = 0
        while i < word.count {
            if !braces && word[i...].starts(with: recordToken) {
                add(.words(.whole))
                i += recordToken.count
            } else if word[i] == 0x7B, let close = word[(i + 1)...].prefix(256).firstIndex(of: 0x7D),
                      let replacement = braceReplacement(word[(i + 1)..<close], allowsEmpty: braces, names: names) {
                add(replacement)
                i = close + 1
            } else {
                literal.append(word[i])
                i += 1
            }
        }
        if !literal.isEmpty || pieces.isEmpty { pieces.append(.literal(literal)) }
        return TemplateWord(pieces: pieces)
    }

    /// What `{inner}` stands for, if it is a replacement string at all.
    private static func braceReplacement(_ inner: ArraySlice<UInt8>, allowsEmpty: Bool, names: Bool) -> Replacement? {
        if inner.elementsEqual([0x23]) { return .sequence }  // {#}
        if inner.elementsEqual([0x25]) { return .slot }      // {%}
        let isDigit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
        let isNameByte = { (b: UInt8) in isDigit(b) || b == 0x5F || b == 0x2D || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) }
        let head = inner.prefix { isNameByte($0) }
        guard let form = PathForm(suffix: inner[head.endIndex...]) else { return nil }
        if head.isEmpty { return allowsEmpty || form != .whole ? .words(form) : nil }
        if head.allSatisfy(isDigit) {
            guard let n = Int(String(decoding: head, as: UTF8.self)), n >= 1 else { return nil }
            return .column(n, form)
        }
        return names ? .named(Array(head), form, text: [0x7B] + Array(inner) + [0x7D]) : nil
    }

    /// `{name}` pieces as the columns `names` gives them, or as plain text.
    func resolving(_ names: [[UInt8]]) -> TemplateWord {
        TemplateWord(pieces: pieces.map { piece in
            guard case .replacement(.named(let name, let form, let text)) = piece else { return piece }
            if let index = names.firstIndex(of: name) { return .replacement(.column(index + 1, form)) }
            return .literal(text)
        })
    }

    /// The argv words this template word becomes for one job.
    func render(_ values: JobValues, quote: Bool, repeatPerWord: Bool) -> [[UInt8]] {
        let shown = { (value: [UInt8]) in quote ? shellQuoted(value) : value }
        if let form = soleWords { return values.words.map { shown(form.apply(to: $0)) } }
        if repeatPerWord && usesWords && values.words.count > 1 {
            return values.words.map { render(values, quote: quote, words: [$0]) }
        }
        return [render(values, quote: quote, words: values.words)]
    }

    private func render(_ values: JobValues, quote: Bool, words: [[UInt8]]) -> [UInt8] {
        let shown = { (value: [UInt8]) in quote ? shellQuoted(value) : value }
        var out: [UInt8] = []
        for piece in pieces {
            switch piece {
            case .literal(let bytes): out += bytes
            case .replacement(.sequence): out += Array(String(values.sequence).utf8)
            case .replacement(.slot): out += Array(String(values.slot).utf8)
            case .replacement(.words(let form)):
                out += Array(words.map { shown(form.apply(to: $0)) }.joined(separator: [0x20]))
            case .replacement(.column(let n, let form)):
                out += shown(n <= values.columns.count ? form.apply(to: values.columns[n - 1]) : [])
            case .replacement(.named(_, _, let text)): out += text
            }
        }
        return out
    }
}

/// How records become invocations, fixed for a whole run.
package struct CommandTemplate: Sendable {
    /// The kinds of job (SPEC §2.2).
    package enum Mode: Sendable { case command, template, shellTemplate }

    package let mode: Mode
    private let words: [TemplateWord]
    private let usesReplacement: Bool
    /// `-X`: a word with `{}` inside is repeated once per record.
    private let repeatPerWord: Bool
    /// True when `{%}` appears, so a job's invocation depends on its slot.
    package let usesSlot: Bool
    /// Every replacement string is a whole `{}` word (or there is none), so
    /// a packed record costs its words once per such word.
    private let simplePacking: Bool
    private let packedWords: Int

    /// Command mode: each record is a complete shell command.
    package static let command = CommandTemplate(mode: .command, words: [], repeatPerWord: false)

    /// - Parameters:
    ///   - words: COMMAND and its initial arguments (template modes).
    ///   - recordToken: the replacement string for the record (`{}`, or `-I STR`).
    ///   - throughShell: run the template through the shell, values quoted.
    ///   - repeatPerWord: `-X`: a word with `{}` in it is repeated per record.
    ///   - namedColumns: `{name}` may name a column (`--header`).
    package init(words: [[UInt8]], recordToken: [UInt8] = Array("{}".utf8), throughShell: Bool,
                 repeatPerWord: Bool = false, namedColumns: Bool = false) {
        self.init(mode: throughShell ? .shellTemplate : .template,
                  words: words.map { TemplateWord.parse($0, recordToken: recordToken, names: namedColumns) },
                  repeatPerWord: repeatPerWord)
    }

    private init(mode: Mode, words: [TemplateWord], repeatPerWord: Bool) {
        self.mode = mode
        self.words = words
        self.repeatPerWord = repeatPerWord
        self.usesReplacement = words.contains { !$0.replacements.isEmpty }
        self.usesSlot = words.contains { $0.replacements.contains(.slot) }
        let replacements = words.flatMap(\.replacements)
        simplePacking = replacements.allSatisfy { $0 == .words(.whole) } && words.allSatisfy { !$0.usesWords || $0.soleWords == .whole }
        packedWords = usesReplacement ? replacements.count : 1
    }

    /// This template with `{name}` resolved against a header's column names.
    package func resolving(names: [[UInt8]]) -> CommandTemplate {
        CommandTemplate(mode: mode, words: words.map { $0.resolving(names) }, repeatPerWord: repeatPerWord)
    }

    /// True when the program to run is the same for every job (template
    /// mode with no replacement string in COMMAND itself).
    package var programIsFixed: Bool { mode == .template && words.first.map { $0.replacements.isEmpty } == true }

    /// The invocation for a job of `records` (several with `-n`, `-X`), its
    /// 1-based sequence number and its worker slot.
    ///
    /// A word that is exactly `{}` (or a form of it) becomes one argument per
    /// word of the records; inside a longer word they are joined by a space
    /// (with `-X`, the longer word is repeated per word instead). Without any
    /// replacement string the records' values are appended as arguments.
    package func invocation(records: [InputRecord], sequence: Int, slot: Int) -> Invocation {
        let values = JobValues(records, sequence: sequence, slot: slot)
        switch mode {
        case .command:
            return .shell(script: Array(values.words.joined(separator: [0x20])))
        case .template:
            return .exec(argv: expand(values, quote: false))
        case .shellTemplate:
            return .shell(script: Array(expand(values, quote: true).joined(separator: [0x20])))
        }
    }

    /// The template's words filled in for a job and joined by spaces, with
    /// nothing appended (`--tagstring`).
    package func text(records: [InputRecord], sequence: Int, slot: Int) -> [UInt8] {
        let values = JobValues(records, sequence: sequence, slot: slot)
        return Array(words.flatMap { $0.render(values, quote: false, repeatPerWord: false) }.joined(separator: [0x20]))
    }

    /// Bytes one job of `records` takes: each argument with its terminator
    /// and `pointer` bytes (the kernel's count with the pointer size; xargs'
    /// and -s's with 0); for the shell, `sh -c SCRIPT`.
    package func commandLineBytes(records: [InputRecord], pointer: Int = MemoryLayout<UnsafeRawPointer>.size) -> Int {
        switch invocation(records: records, sequence: 1, slot: 1) {
        case .exec(let argv): return argv.reduce(pointer) { $0 + $1.count + 1 + pointer }
        case .shell(let script): return script.count + 1 + 4 * pointer + 64  // the shell's path and -c
        }
    }

    /// The bytes one more record adds to a packed job's command line:
    /// counted directly for the usual templates (records appended, or only
    /// whole `{}` words), else measured as the difference it makes.
    package func packedCost(of record: InputRecord, pointer: Int = MemoryLayout<UnsafeRawPointer>.size) -> Int {
        if mode == .template {
            let size = { (words: [[UInt8]]) in words.reduce(0) { $0 + $1.count + 1 + pointer } }
            if let word = record.single, !usesReplacement || simplePacking { return packedWords * (word.count + 1 + pointer) }
            if !usesReplacement { return size(record.columns) }
            if simplePacking { return packedWords * size(record.words) }
        }
        return commandLineBytes(records: [record, record], pointer: pointer) - commandLineBytes(records: [record], pointer: pointer)
    }

    /// Packed records end up in one string (a shell script, or `{}` inside
    /// a longer word without -X), which Linux caps at 128 KiB.
    package var packsIntoOneString: Bool {
        mode != .template || (!repeatPerWord && words.contains { $0.usesWords && $0.soleWords == nil })
    }

    private func expand(_ values: JobValues, quote: Bool) -> [[UInt8]] {
        var argv: [[UInt8]] = []
        argv.reserveCapacity(words.count + values.columns.count)
        for word in words { argv += word.render(values, quote: quote, repeatPerWord: repeatPerWord) }
        if !usesReplacement {
            for value in values.columns { argv.append(quote ? shellQuoted(value) : value) }
        }
        return argv
    }
}

/// `bytes` as one single-quoted shell word that the shell never expands.
package func shellQuoted(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x27]
    for byte in bytes {
        if byte == 0x27 { out += Array("'\\''".utf8) } else { out.append(byte) }
    }
    out.append(0x27)
    return out
}

extension Invocation {
    /// How the invocation is shown to people (`-t`, `--dry-run`, job log):
    /// the script itself, or the argv with words quoted where the shell needs it.
    package var displayText: [UInt8] {
        switch self {
        case .shell(let script): return script
        case .exec(let argv):
            var text: [UInt8] = []
            text.reserveCapacity(argv.reduce(0) { $0 + $1.count + 1 })
            for (n, word) in argv.enumerated() {
                if n > 0 { text.append(0x20) }
                let plain = !word.isEmpty && word.allSatisfy { byte in
                    switch byte {
                    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x80...: true
                    case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "="),
                         UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "+"), UInt8(ascii: "@"), UInt8(ascii: "%"): true
                    default: false
                    }
                }
                text += plain ? word : shellQuoted(word)
            }
            return text
        }
    }
}
