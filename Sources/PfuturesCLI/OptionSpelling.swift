// What popt does not do for long options, as GNU getopt and GNU parallel
// users expect: a unique prefix stands for the whole name (`--dry` is
// `--dry-run`), and a misspelt name gets a "did you mean" from the one
// option table.

enum OptionSpelling {
    /// `arguments` (after the subcommand word) with unique long-option
    /// prefixes written out, up to the first word that is not an option.
    /// - Throws: `UsageError` for a prefix that several options share.
    static func expandingPrefixes(_ arguments: [[UInt8]], options: [OptionSpec]) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            // Options end at `--`, `-` or the first word that is not an option (COMMAND).
            guard word.count > 1, word[0] == 0x2D, word != Array("--".utf8) else { break }
            i += 1
            if word[1] == 0x2D {
                let body = word.dropFirst(2)
                let name = Array(body.prefix { $0 != 0x3D })
                let valuePart = Array(body.drop { $0 != 0x3D })
                guard let spec = try longOption(name, among: options), let long = spec.longBytes else {
                    out.append(word)
                    continue
                }
                out.append([0x2D, 0x2D] + long + valuePart)
                if spec.takesValue && valuePart.isEmpty && i < arguments.count { out.append(arguments[i]); i += 1 }
            } else {
                out.append(word)
                // A cluster of short options: the first that takes a value
                // takes the rest of the cluster, or else the next word.
                for (offset, byte) in word.dropFirst().enumerated() {
                    guard let spec = options.first(where: { $0.short?.value == UInt32(byte) }), spec.takesValue else { continue }
                    if offset == word.count - 2 && i < arguments.count { out.append(arguments[i]); i += 1 }
                    break
                }
            }
        }
        return out + arguments[i...]
    }

    /// The option `name` means: itself, or the one option it is a prefix of;
    /// nil when none (popt then says it is unknown).
    private static func longOption(_ name: [UInt8], among options: [OptionSpec]) throws -> OptionSpec? {
        guard !name.isEmpty else { return nil }
        if let exact = options.first(where: { $0.longBytes?.elementsEqual(name) == true }) { return exact }
        let candidates = options.filter { $0.longBytes?.starts(with: name) == true }
        guard candidates.count <= 1 else {
            let names = candidates.map { "--" + $0.long! }.joined(separator: ", ")
            throw UsageError(message: "--\(String(decoding: name, as: UTF8.self)): ambiguous option (\(names))")
        }
        return candidates.first
    }

    /// The long option closest to a misspelt `--name`, if one is close.
    static func suggestion(for bad: String, options: [OptionSpec]) -> String? {
        guard bad.hasPrefix("--") else { return nil }
        let name = Array(bad.dropFirst(2).prefix { $0 != "=" })
        let scored = options.compactMap { spec in spec.long.map { ($0, distance(name, Array($0))) } }
        guard let (best, score) = scored.min(by: { $0.1 < $1.1 }), score <= max(2, name.count / 3) else { return nil }
        return "--" + best
    }

    /// Levenshtein distance.
    private static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var row = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var previous = row[0]
            row[0] = i + 1
            for (j, y) in b.enumerated() {
                let substitution = previous + (x == y ? 0 : 1)
                previous = row[j + 1]
                row[j + 1] = min(substitution, row[j] + 1, row[j + 1] + 1)
            }
        }
        return row[b.count]
    }
}
