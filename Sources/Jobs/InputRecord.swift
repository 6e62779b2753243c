// One input record as a job's template sees it. A record from stdin or a
// file is one word; one from `:::` sources is one word per source (the
// cartesian product's tuple); `--colsep` splits a record into columns.

/// What `{}` and `{1}`, `{2}`, … stand for in one record.
package struct InputRecord: Sendable, Equatable {
    /// The record when it is one word and one column (the usual case, held
    /// without an array around it: packing reads 100,000s of these).
    package let single: [UInt8]?
    private let several: [[UInt8]]?
    private let split: [[UInt8]]?

    /// The words `{}` stands for: the record, or one per source value.
    package var words: [[UInt8]] { single.map { [$0] } ?? several! }

    /// The values `{1}`, `{2}`, … stand for: the columns, or else the words.
    package var columns: [[UInt8]] { split ?? words }

    /// A record from a stream: one word.
    package init(_ bytes: [UInt8]) {
        single = bytes
        several = nil
        split = nil
    }

    /// A record of several words (a tuple of source values), and its
    /// columns when `--colsep` split the words further.
    package init(words: [[UInt8]], columns: [[UInt8]]? = nil) {
        single = nil
        several = words
        split = columns
    }

    /// The words joined by a space: how the record is shown (`--tag`) and
    /// what `{}` is inside a longer word.
    package var text: [UInt8] { single ?? Array(several!.joined(separator: [0x20])) }
}
