// `--colsep SEP`: splits a record into the columns `{1}`, `{2}`, … stand
// for. SEP is a regular expression as in GNU parallel (Perl's), read here as
// POSIX extended with Perl's common escapes (`\t`, `\n`, `\s`, `\d`, `\w`);
// a separator that is one plain byte is split on without the regex engine.
#if canImport(Glibc)
import Glibc
#endif

/// Splits records into columns at every match of a separator.
/// @unchecked Sendable: the compiled regex is only read after init
/// (regexec does not modify it).
package final class ColumnSplitter: @unchecked Sendable {
    private let byte: UInt8?
    private let regex: UnsafeMutablePointer<regex_t>?

    /// - Throws: `ColumnSeparatorError` when SEP is empty or not a valid expression.
    package init(_ separator: [UInt8]) throws(ColumnSeparatorError) {
        let pattern = Self.posix(separator)
        guard !pattern.isEmpty else { throw ColumnSeparatorError(reason: "the separator is empty") }
        let special = Array("\\^$.|?*+()[]{}".utf8)
        if pattern.count == 1 && !special.contains(pattern[0]) {
            byte = pattern[0]
            regex = nil
            return
        }
        byte = nil
        let compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let code = (pattern + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { regcomp(compiled, $0.baseAddress!, REG_EXTENDED) }
        }
        guard code == 0 else {
            var message = [CChar](repeating: 0, count: 256)
            regerror(code, compiled, &message, message.count)
            compiled.deallocate()
            throw ColumnSeparatorError(reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                                                      as: UTF8.self))
        }
        regex = compiled
    }

    deinit {
        if let regex {
            regfree(regex)
            regex.deallocate()
        }
    }

    /// The columns of `record`; a record without the separator is one column.
    /// (The regex engine reads a NUL byte in a record as its end.)
    package func split(_ record: [UInt8]) -> [[UInt8]] {
        if let byte { return record.split(separator: byte, omittingEmptySubsequences: false).map(Array.init) }
        var columns: [[UInt8]] = []
        let text = record + [0]
        var start = 0
        var match = regmatch_t()
        while start <= record.count {
            let found = text.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    regexec(regex!, $0.baseAddress! + start, 1, &match, start > 0 ? REG_NOTBOL : 0) == 0
                }
            }
            // An empty match would never move on: it ends the splitting.
            guard found, match.rm_eo > match.rm_so else { break }
            columns.append(Array(record[start..<(start + Int(match.rm_so))]))
            start += Int(match.rm_eo)
        }
        columns.append(Array(record[min(start, record.count)...]))
        return columns
    }

    /// Perl's escapes that POSIX extended expressions lack, translated.
    private static func posix(_ separator: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < separator.count {
            guard separator[i] == 0x5C, i + 1 < separator.count else {
                out.append(separator[i])
                i += 1
                continue
            }
            switch separator[i + 1] {
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "s"): out += Array("[[:space:]]".utf8)
            case UInt8(ascii: "d"): out += Array("[0-9]".utf8)
            case UInt8(ascii: "w"): out += Array("[[:alnum:]_]".utf8)
            default: out += separator[i...(i + 1)]
            }
            i += 2
        }
        return out
    }
}

/// A `--colsep` that cannot be used.
package struct ColumnSeparatorError: Error, Sendable {
    package let reason: String
}
