// Where a run's records come from, as InputRecords: a stream (stdin or
// `-a FILE`) split into records, or the `:::` sources' tuples; split into
// columns with `--colsep`; the first taken as column names with
// `--header :`; ended early at `-E STR`.

/// The records of one run, one at a time. Not thread-safe: one reader.
package final class RecordFeed {
    private let stream: RecordReader?
    private let product: SourceProduct?
    private var held: [InputRecord]?   // --shuf: all records, in the order they will run
    private let splitter: ColumnSplitter?
    private let endMarker: [UInt8]?
    private var ended = false
    /// Column names from `--header :`, once read.
    package private(set) var names: [[UInt8]]?

    /// Records from a stream; `header`: its first record names the columns.
    package init(stream: RecordReader, splitter: ColumnSplitter?, header: Bool, endMarker: [UInt8]?) {
        self.stream = stream
        self.product = nil
        self.splitter = splitter
        self.endMarker = endMarker
        if header, let first = stream.next() { names = splitter?.split(first) ?? [first] }
    }

    /// Records from `:::` sources (their header, if any, is already taken).
    package init(sources: SourceProduct, splitter: ColumnSplitter?) {
        self.stream = nil
        self.product = sources
        self.splitter = splitter
        self.endMarker = nil
        names = sources.headerNames.map { values in splitter.map { s in values.flatMap { s.split($0) } } ?? values }
    }

    /// `--shuf`: reads every record now and hands them out in random order.
    package func shuffle() {
        var all: [InputRecord] = []
        while let record = next() { all.append(record) }
        all.shuffle()
        all.reverse()  // handed out from the end
        held = all
    }

    /// The errno of a failed read of the stream, if reading stopped on one.
    package var readError: Int32? { stream?.readError ?? product?.readError }

    /// The next record, or nil at the end of input (or at `-E`'s marker).
    package func next() -> InputRecord? {
        if held != nil { return held!.popLast() }
        guard !ended else { return nil }
        if let product {
            guard let tuple = product.next() else { return nil }
            return InputRecord(words: tuple, columns: splitter.map { s in tuple.flatMap { s.split($0) } })
        }
        guard let record = stream?.next() else { return nil }
        if let endMarker, record == endMarker {
            ended = true
            return nil
        }
        guard let splitter else { return InputRecord(record) }
        return InputRecord(words: [record], columns: splitter.split(record))
    }
}
