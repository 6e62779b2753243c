// Turns records into what a job executes: command mode (the record is a shell
// command), template mode (records become arguments of COMMAND, exec'd
// directly) and shell-template mode (the template runs through the shell with
// each record single-quoted). Pure byte manipulation, no I/O.

/// What one job executes, before a program path is resolved.
package enum Invocation: Sendable, Equatable {
    /// Run `argv[0]` with `argv`, found on PATH when it has no slash.
    case exec(argv: [[UInt8]])
    /// Run `shell -c script`.
    case shell(script: [UInt8])
}

/// A replacement string of the template language.
enum Replacement: Sendable, Equatable {
    case record            // {} or the -I string
    case withoutExtension  // {.}
    case basename          // {/}
    case dirname           // {//}
    case basenameWithoutExtension  // {/.}
    case sequence          // {#}
    case slot              // {%}

    var usesRecord: Bool { self != .sequence && self != .slot }

    func apply(to record: [UInt8]) -> [UInt8] {
        switch self {
        case .record: return record
        case .withoutExtension: return Replacement.stripExtension(record)
        case .basename: return Replacement.basename(record)
        case .dirname:
            guard let slash = record.lastIndex(of: 0x2F) else { return [0x2E] }
            return slash == 0 ? [0x2F] : Array(record[..<slash])
        case .basenameWithoutExtension: return Replacement.stripExtension(Replacement.basename(record))
        case .sequence, .slot: return []
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

/// One word of the template, split into literal bytes and replacements.
struct TemplateWord: Sendable, Equatable {
    enum Piece: Sendable, Equatable { case literal([UInt8]), replacement(Replacement) }
    var pieces: [Piece]

    var usesRecord: Bool { pieces.contains { if case .replacement(let r) = $0 { r.usesRecord } else { false } } }

    /// The whole word is one record-derived replacement (`{}`, `{/}`, ...).
    var soleRecordReplacement: Replacement? {
        if pieces.count == 1, case .replacement(let r) = pieces[0], r.usesRecord { return r }
        return nil
    }

    static func parse(_ word: [UInt8], recordToken: [UInt8]) -> TemplateWord {
        let fixed: [([UInt8], Replacement)] = [
            (Array("{//}".utf8), .dirname), (Array("{/.}".utf8), .basenameWithoutExtension),
            (Array("{/}".utf8), .basename), (Array("{.}".utf8), .withoutExtension),
            (Array("{#}".utf8), .sequence), (Array("{%}".utf8), .slot),
        ]
        let tokens = [(recordToken, Replacement.record)] + fixed
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        var i = 0
        scan: while i < word.count {
            for (token, replacement) in tokens where !token.isEmpty && word[i...].starts(with: token) {
                if !literal.isEmpty { pieces.append(.literal(literal)); literal = [] }
                pieces.append(.replacement(replacement))
                i += token.count
                continue scan
            }
            literal.append(word[i])
            i += 1
        }
        if !literal.isEmpty || pieces.isEmpty { pieces.append(.literal(literal)) }
        return TemplateWord(pieces: pieces)
    }

    func render(record: [UInt8], sequence: Int, slot: Int, quote: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for piece in pieces {
            switch piece {
            case .literal(let bytes): out += bytes
            case .replacement(.sequence): out += Array(String(sequence).utf8)
            case .replacement(.slot): out += Array(String(slot).utf8)
            case .replacement(let r):
                let value = r.apply(to: record)
                out += quote ? shellQuoted(value) : value
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
    private let usesRecord: Bool
    /// True when `{%}` appears, so a job's invocation depends on its slot.
    package let usesSlot: Bool

    /// Command mode: each record is a complete shell command.
    package static let command = CommandTemplate(mode: .command, words: [])

    /// - Parameters:
    ///   - words: COMMAND and its initial arguments (template modes).
    ///   - recordToken: the replacement string for the record (`{}`, or `-I STR`).
    package init(words: [[UInt8]], recordToken: [UInt8] = Array("{}".utf8), throughShell: Bool) {
        self.init(mode: throughShell ? .shellTemplate : .template,
                  words: words.map { TemplateWord.parse($0, recordToken: recordToken) })
    }

    private init(mode: Mode, words: [TemplateWord]) {
        self.mode = mode
        self.words = words
        self.usesRecord = words.contains { $0.usesRecord }
        self.usesSlot = words.contains { $0.pieces.contains(.replacement(.slot)) }
    }

    /// The invocation for a job of `records` (several with `-n`), its
    /// 1-based sequence number and its worker slot.
    ///
    /// Without replacement strings the records are appended as arguments.
    /// With several records, a word that is exactly one replacement string
    /// becomes one argument per record; a word with text around a
    /// replacement is repeated once per record (GNU parallel's `-X`).
    package func invocation(records: [[UInt8]], sequence: Int, slot: Int) -> Invocation {
        switch mode {
        case .command:
            return .shell(script: records.joined(separator: [0x0A]).map { $0 })
        case .template:
            return .exec(argv: expand(records: records, sequence: sequence, slot: slot, quote: false))
        case .shellTemplate:
            let parts = expand(records: records, sequence: sequence, slot: slot, quote: true)
            return .shell(script: Array(parts.joined(separator: [0x20])))
        }
    }

    private func expand(records: [[UInt8]], sequence: Int, slot: Int, quote: Bool) -> [[UInt8]] {
        var argv: [[UInt8]] = []
        argv.reserveCapacity(words.count + records.count)
        for word in words {
            if word.usesRecord && records.count != 1 {
                for record in records {
                    argv.append(word.render(record: record, sequence: sequence, slot: slot, quote: quote))
                }
            } else {
                argv.append(word.render(record: records.first ?? [], sequence: sequence, slot: slot, quote: quote))
            }
        }
        if !usesRecord {
            for record in records { argv.append(quote ? shellQuoted(record) : record) }
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
            return Array(argv.map { word -> [UInt8] in
                let plain = !word.isEmpty && word.allSatisfy { byte in
                    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                        || Array("-_./=:,+@%".utf8).contains(byte) || byte >= 0x80
                }
                return plain ? word : shellQuoted(word)
            }.joined(separator: [0x20]))
        }
    }
}
