// GNU parallel's input sources: `::: ARG...` and `:::: FILE...` after the
// command. Several sources combine as a cartesian product, the last varying
// fastest; `:::+`/`::::+` link a source to the one before it element by
// element (the shorter one ends the pair), `--link` links them all (the
// shorter ones wrap around). The first group of linked sources is streamed;
// the others are read once and kept, so memory holds the sources, never the
// product.
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// One `:::` or `::::` source as written on the command line.
package struct SourceSpec: Sendable, Equatable {
    package enum Origin: Sendable, Equatable {
        /// `::: ARG...`
        case arguments([[UInt8]])
        /// `:::: FILE` (`-` is stdin).
        case file([UInt8])
    }
    package var origin: Origin
    /// Written with `:::+`/`::::+`: paired with the source before it.
    package var linkedToPrevious: Bool

    package init(_ origin: Origin, linkedToPrevious: Bool = false) {
        self.origin = origin
        self.linkedToPrevious = linkedToPrevious
    }

    /// Splits `words` (COMMAND and what follows it) at the first source
    /// marker: the command's words, and the sources (empty when none).
    package static func split(_ words: [[UInt8]]) -> (command: [[UInt8]], sources: [SourceSpec]) {
        guard let first = words.firstIndex(where: { Marker($0) != nil }) else { return (words, []) }
        var sources: [SourceSpec] = []
        var marker = Marker(words[first])!
        var values: [[UInt8]] = []
        func close() {
            if marker.readsFiles {
                // `:::: a b` is two file sources; only the first is linked by `::::+`.
                for (n, path) in values.enumerated() {
                    sources.append(SourceSpec(.file(path), linkedToPrevious: marker.linked && n == 0))
                }
            } else {
                sources.append(SourceSpec(.arguments(values), linkedToPrevious: marker.linked))
            }
            values = []
        }
        for word in words[(first + 1)...] {
            if let next = Marker(word) {
                close()
                marker = next
            } else {
                values.append(word)
            }
        }
        close()
        return (Array(words[..<first]), sources)
    }

    private struct Marker {
        let readsFiles: Bool
        let linked: Bool
        init?(_ word: [UInt8]) {
            switch String(decoding: word, as: UTF8.self) {
            case ":::": (readsFiles, linked) = (false, false)
            case ":::+": (readsFiles, linked) = (false, true)
            case "::::": (readsFiles, linked) = (true, false)
            case "::::+": (readsFiles, linked) = (true, true)
            default: return nil
            }
        }
    }
}

/// A source that cannot be read.
package struct SourceError: Error, Sendable {
    package let path: [UInt8]
    package let reason: String
}

/// One source's values, one at a time.
private final class SourceStream {
    private let reader: RecordReader?
    private var arguments: IndexingIterator<[[UInt8]]>?
    private let fd: Int32

    init(_ origin: SourceSpec.Origin, format: RecordFormat, stdin: Int32, wakeFD: Int32?) throws(SourceError) {
        switch origin {
        case .arguments(let values):
            arguments = values.makeIterator()
            reader = nil
            fd = -1
        case .file(let path):
            if path == [0x2D] {
                fd = -1
                reader = RecordReader(fd: stdin, format: format, wakeFD: wakeFD)
            } else {
                let opened = openRecordFile(path)
                guard opened >= 0 else { throw SourceError(path: path, reason: errnoText(errno)) }
                fd = opened
                reader = RecordReader(fd: opened, format: format, wakeFD: wakeFD)
            }
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    func next() -> [UInt8]? { reader?.next() ?? arguments?.next() }

    var readError: Int32? { reader?.readError }

    func readAll() -> [[UInt8]] {
        var all: [[UInt8]] = []
        while let value = next() { all.append(value) }
        return all
    }
}

/// The tuples of a run's sources, in GNU parallel's order, streamed.
package final class SourceProduct {
    /// Sources linked together; each yields one value per tuple.
    private let first: [SourceStream]
    private let rest: [[[[UInt8]]]]    // every later group's tuples, read once
    private var current: [[UInt8]]?    // the first group's tuple being combined
    private var odometer: [Int]
    private var wrapped: [[[UInt8]]]?  // --link: every source, read once
    private var wrapIndex = 0
    private var wrapLength = 0
    private var names: [[UInt8]]?
    private let streams: [SourceStream]

    /// - Parameters: sources: in command-line order; linkAll: `--link`;
    ///   header: the first value of each source names it (`--header :`);
    ///   format: how `::::` files split into records; stdin: the descriptor
    ///   `:::: -` reads; wakeFD: readable once reading should stop (the run
    ///   is stopping), so a source waiting on a pipe never holds it up.
    package init(_ sources: [SourceSpec], linkAll: Bool, header: Bool, format: RecordFormat, stdin: Int32,
                 wakeFD: Int32? = nil) throws(SourceError) {
        var streams: [SourceStream] = []
        for source in sources {
            streams.append(try SourceStream(source.origin, format: format, stdin: stdin, wakeFD: wakeFD))
        }
        self.streams = streams
        if header { names = streams.map { $0.next() ?? [] } }
        if linkAll {
            wrapped = streams.map { $0.readAll() }
            wrapLength = wrapped!.contains { $0.isEmpty } ? 0 : wrapped!.map(\.count).max() ?? 0
            first = []
            rest = []
            odometer = []
            return
        }
        var groups: [[SourceStream]] = []
        for (stream, spec) in zip(streams, sources) {
            if spec.linkedToPrevious && !groups.isEmpty { groups[groups.count - 1].append(stream) } else { groups.append([stream]) }
        }
        first = groups.first ?? []
        rest = groups.dropFirst().map { group in
            var tuples: [[[UInt8]]] = []
            while let tuple = Self.lockstep(group) { tuples.append(tuple) }
            return tuples
        }
        odometer = Array(repeating: 0, count: rest.count)
    }

    /// The errno of the first source whose reading failed, if any.
    package var readError: Int32? { streams.lazy.compactMap(\.readError).first }

    /// The column names `--header :` took from the sources (one per source).
    package var headerNames: [[UInt8]]? { names }

    /// The next tuple: one value per source.
    package func next() -> [[UInt8]]? {
        if let wrapped {
            guard wrapIndex < wrapLength else { return nil }
            defer { wrapIndex += 1 }
            return wrapped.map { $0[wrapIndex % $0.count] }
        }
        if rest.contains(where: \.isEmpty) { return nil }
        if current == nil || !advance() {
            guard let tuple = Self.lockstep(first) else { return nil }
            current = tuple
            odometer = Array(repeating: 0, count: rest.count)
        }
        return current! + zip(rest, odometer).flatMap { group, index in group[index] }
    }

    /// Moves the later groups on by one, the last fastest; false when they
    /// have all gone round (time for the first group's next tuple).
    private func advance() -> Bool {
        var position = rest.count - 1
        while position >= 0 {
            odometer[position] += 1
            if odometer[position] < rest[position].count { return true }
            odometer[position] = 0
            position -= 1
        }
        return false
    }

    /// One value from each stream, or nil when any has ended.
    private static func lockstep(_ streams: [SourceStream]) -> [[UInt8]]? {
        var tuple: [[UInt8]] = []
        for stream in streams {
            guard let value = stream.next() else { return nil }
            tuple.append(value)
        }
        return tuple.isEmpty ? nil : tuple
    }
}
