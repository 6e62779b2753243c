// pfutures copy: byte-identical contents, modes, times, destination rules,
// odd names, errors that leave the others going, and atomic replacement.
import Foundation
import Testing

private func make(_ h: Harness, _ name: String, bytes: [UInt8], mode: Int = 0o644) throws {
    let url = URL(fileURLWithPath: h.file(name))
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
}

private func attributes(_ h: Harness, _ name: String) -> [FileAttributeKey: Any] {
    (try? FileManager.default.attributesOfItem(atPath: h.file(name))) ?? [:]
}

private func temporaries(_ h: Harness) -> [String] {
    (FileManager.default.enumerator(atPath: h.path)?.allObjects as? [String] ?? []).filter { $0.contains(".pfutures.") }
}

/// The children of `pid`, from /proc.
private func children(of pid: pid_t) -> [pid_t] {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
    return text.split(separator: " ").compactMap { pid_t($0) }
}

@Suite struct CopyTests {
    @Test func contentsAndModesArrive() throws {
        let h = try Harness()
        let big = (0..<(50 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
        try make(h, "src/empty", bytes: [])
        try make(h, "src/small", bytes: Array("hello\n".utf8), mode: 0o751)
        try make(h, "src/big", bytes: big, mode: 0o600)
        // A sparse file: a hole between two written bytes.
        try Data().write(to: URL(fileURLWithPath: h.file("src/sparse")))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: h.file("src/sparse")))
        try handle.write(contentsOf: Data([1]))
        try handle.seek(toOffset: 20 << 20)
        try handle.write(contentsOf: Data([2]))
        try handle.close()
        try FileManager.default.createDirectory(atPath: h.file("dst"), withIntermediateDirectories: true)
        let pairs = ["empty", "small", "big", "sparse"].map { "src/\($0)\tdst/\($0)\n" }.joined()
        let r = try h.run(["copy", "-j4"], input: pairs)
        #expect(r.status == 0, "\(r)")
        for name in ["empty", "small", "big", "sparse"] {
            #expect(h.read("dst/\(name)") == h.read("src/\(name)"), "\(name) byte-identical")
        }
        #expect(attributes(h, "dst/small")[.posixPermissions] as? Int == 0o751)
        #expect(attributes(h, "dst/big")[.posixPermissions] as? Int == 0o600)
        #expect(temporaries(h).isEmpty)
    }

    @Test func preserveKeepsTimesAndDefaultDoesNot() throws {
        let h = try Harness()
        try make(h, "old", bytes: Array("x".utf8))
        let past = Date(timeIntervalSince1970: 1_000_000_000)
        try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: h.file("old"))
        _ = try h.run(["copy", "--preserve"], input: "old\tkept\n")
        _ = try h.run(["copy"], input: "old\tfresh\n")
        #expect((attributes(h, "kept")[.modificationDate] as? Date) == past)
        #expect((attributes(h, "fresh")[.modificationDate] as? Date ?? past) > past)
    }

    @Test func destinationDirectoryAndTrailingSlashRules() throws {
        let h = try Harness()
        try make(h, "f", bytes: Array("1".utf8))
        try FileManager.default.createDirectory(atPath: h.file("dir"), withIntermediateDirectories: true)
        let r = try h.run(["copy"], input: "f\tdir\nf\tdir/\nf\tnew/\n")
        #expect(h.read("dir/f") == Array("1".utf8))
        #expect(r.status == 123 && r.err.contains("copy f -> new/:"), "no such directory without --parents: \(r)")
        let p = try h.run(["copy", "--parents"], input: "f\tnew/\nf\ta/b/c/g\n")
        #expect(p.status == 0, "\(p)")
        #expect(h.read("new/f") == Array("1".utf8) && h.read("a/b/c/g") == Array("1".utf8))
    }

    @Test func oddNamesWithNulSeparatedPairs() throws {
        let h = try Harness()
        let names = ["-dash", "sp ace", "new\nline", "quo'te\"s", "tab\there"]
        var input: [UInt8] = []
        for name in names {
            try make(h, name, bytes: Array(name.utf8))
            input += Array(name.utf8) + [0] + Array("copy-\(name)".utf8) + [0]
        }
        let r = try h.run(["copy", "-0"], input: input)
        #expect(r.status == 0, "\(r)")
        for name in names { #expect(h.read("copy-\(name)") == Array(name.utf8), "\(name)") }
    }

    @Test func invalidUTF8NamesAreBytesEndToEnd() throws {
        let h = try Harness()
        let odd: [UInt8] = [0x62, 0xFF, 0x63]
        // Create the odd-named source through pfutures run (argv bytes), then copy it.
        _ = try h.run(["run", "-0", "sh", "-c", "echo data > \"$1\"", "sh"], input: odd + [0])
        let r = try h.run(["copy", "-0", "--events", "events"], input: odd + [0] + Array("plain".utf8) + [0])
        #expect(r.status == 0, "\(r)")
        #expect(h.read("plain") == Array("data\n".utf8))
    }

    @Test func eachFailureIsReportedAndTheOthersAreCopied() throws {
        let h = try Harness()
        try make(h, "ok1", bytes: Array("a".utf8))
        try make(h, "ok2", bytes: Array("b".utf8))
        try make(h, "secret", bytes: Array("c".utf8), mode: 0)
        try FileManager.default.createDirectory(atPath: h.file("adir"), withIntermediateDirectories: true)
        let input = "ok1\tout1\nmissing\tout2\nadir\tout3\nsecret\tout4\nno-tab-here\nok2\tout5\n"
        let r = try h.run(["copy", "-j1"], input: input)
        #expect(r.status == 123 || r.status == 126, "\(r)")
        #expect(h.read("out1") == Array("a".utf8) && h.read("out5") == Array("b".utf8))
        #expect(r.err.contains("pfutures: copy missing -> out2: No such file or directory"), "\(r)")
        #expect(r.err.contains("pfutures: copy adir -> out3: source is a directory"), "\(r)")
        if getuid() != 0 { #expect(r.err.contains("copy secret -> out4: Permission denied"), "\(r)") }
        #expect(r.err.contains("not SRC<TAB>DST"), "\(r)")
        #expect(temporaries(h).isEmpty)
    }

    @Test func symlinksAreFollowedUnlessNoDereference() throws {
        let h = try Harness()
        try make(h, "target", bytes: Array("t".utf8))
        try FileManager.default.createSymbolicLink(atPath: h.file("link"), withDestinationPath: "target")
        _ = try h.run(["copy"], input: "link\tfollowed\nlink\tfollowed2\n")
        _ = try h.run(["copy", "--no-dereference"], input: "link\tkeptlink\n")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: h.file("followed"))) == nil)
        #expect(h.read("followed") == Array("t".utf8))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: h.file("keptlink"))) == "target")
    }

    @Test func readersNeverSeeAHalfWrittenFile() throws {
        let h = try Harness()
        let size = 64 << 20
        try make(h, "big", bytes: [UInt8](repeating: 7, count: size))
        try make(h, "dst", bytes: Array("old".utf8))
        let pipe = Pipe()
        let (process, out, err) = try h.start(["copy", "--fsync"], stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data("big\tdst\n".utf8))
        try pipe.fileHandleForWriting.close()
        var seen = Set<UInt64>()
        while process.isRunning {
            if let s = attributes(h, "dst")[.size] as? UInt64 { seen.insert(s) }
        }
        _ = h.collect(process, arguments: ["copy"], out: out, err: err)
        seen.insert(attributes(h, "dst")[.size] as? UInt64 ?? 0)
        #expect(seen.isSubset(of: [3, UInt64(size)]), "only the old or the whole file: \(seen)")
        #expect(h.read("dst").count == size)
    }

    @Test func sigtermMidCopyLeavesNoTemporary() throws {
        let h = try Harness()
        try make(h, "big", bytes: [UInt8](repeating: 1, count: 256 << 20))
        let pipe = Pipe()
        let (process, out, err) = try h.start(["copy", "-j2"], stdin: pipe.fileHandleForReading)
        pipe.fileHandleForWriting.write(Data((1...20).map { "big\tcopy\($0)\n" }.joined().utf8))
        try pipe.fileHandleForWriting.close()
        #expect(h.eventually { !temporaries(h).isEmpty || h.exists("copy1") })
        kill(process.processIdentifier, SIGTERM)
        let r = h.collect(process, arguments: ["copy"], out: out, err: err)
        #expect(r.status == 143, "\(r)")
        #expect(temporaries(h).isEmpty, "\(temporaries(h))")
        for n in 1...20 where h.exists("copy\(n)") {
            #expect(attributes(h, "copy\(n)")[.size] as? UInt64 == 256 << 20, "copy\(n) is whole")
        }
    }

    @Test func staleTemporariesOfDeadRunsAreRemoved() throws {
        let h = try Harness()
        let hourAgo = Date(timeIntervalSinceNow: -3600)
        try make(h, "f", bytes: Array("x".utf8))
        // A dead run's temporary: its pid is gone and no copy holds its lock.
        try make(h, "out/.pfutures.999999.1.tmp", bytes: Array("stale".utf8))
        try FileManager.default.setAttributes([.modificationDate: hourAgo], ofItemAtPath: h.file("out/.pfutures.999999.1.tmp"))
        // #15: a live copy in another PID namespace (or NFS client) has a pid
        // that means nothing here; it holds the temporary's lock.
        try make(h, "out/.pfutures.999998.1.tmp", bytes: Array("live elsewhere".utf8))
        try FileManager.default.setAttributes([.modificationDate: hourAgo], ofItemAtPath: h.file("out/.pfutures.999998.1.tmp"))
        let held = open(h.file("out/.pfutures.999998.1.tmp"), O_RDONLY)
        #expect(held >= 0 && flock(held, LOCK_EX | LOCK_NB) == 0)
        defer { close(held) }
        // A pid that exists here, no lock, but written just now: maybe a copy
        // between creating and locking it.
        try make(h, "out/.pfutures.1.1.tmp", bytes: Array("fresh".utf8))
        _ = try h.run(["copy"], input: "f\tout/f\n")
        #expect(!h.exists("out/.pfutures.999999.1.tmp"), "a dead run's temporary is removed")
        #expect(h.exists("out/.pfutures.999998.1.tmp"), "a locked temporary is left alone, whatever its pid")
        #expect(h.exists("out/.pfutures.1.1.tmp"), "a fresh temporary is left alone")
        try FileManager.default.removeItem(atPath: h.file("out/.pfutures.999998.1.tmp"))
        try FileManager.default.removeItem(atPath: h.file("out/.pfutures.1.1.tmp"))
    }

    @Test func aTemporaryLockedFromAnotherPIDNamespaceIsLeftAlone() throws {
        // #15: a copy in another PID namespace names its temporary with a pid
        // that means nothing here (1: it is its namespace's first process).
        // Its lock is what tells it is alive: held from a real second PID
        // namespace (unshare), the temporary, an hour old, is left alone by a
        // copy here cleaning the directory; once the lock is let go, removed.
        let h = try Harness()
        try make(h, "small", bytes: Array("x".utf8))
        let name = "out/.pfutures.1.1.tmp"
        try make(h, name, bytes: Array("being copied elsewhere".utf8))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)],
                                              ofItemAtPath: h.file(name))
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments = ["--pid", "--fork", "flock", "--exclusive", h.file(name),
                            "sh", "-c", "echo $$ > \(h.file("holder-pid")); exec sleep 120"]
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) }; holder.waitUntilExit() }
        #expect(h.eventually { h.exists("holder-pid") }, "the lock holder did not start")
        #expect(String(decoding: h.read("holder-pid"), as: UTF8.self) == "2\n", "the holder is in its own PID namespace")
        let first = try h.run(["copy"], input: "small\tout/a\n")
        #expect(first.status == 0, "\(first)")
        #expect(h.exists(name), "a temporary locked from another PID namespace must be left alone")
        // unshare --fork passes SIGTERM to nothing: end its namespace by its first process.
        for child in children(of: holder.processIdentifier) { kill(child, SIGKILL) }
        holder.waitUntilExit()
        let second = try h.run(["copy"], input: "small\tout/b\n")
        #expect(second.status == 0, "\(second)")
        #expect(!h.exists(name), "once no copy holds it, the old temporary is removed")
    }

    @Test func joblogAndResumeWorkForCopies() throws {
        let h = try Harness()
        try make(h, "a", bytes: Array("1".utf8))
        try make(h, "b", bytes: Array("2".utf8))
        _ = try h.run(["copy", "--joblog", "log"], input: "a\tA\n")
        try FileManager.default.removeItem(atPath: h.file("A"))
        let r = try h.run(["copy", "--joblog", "log", "--resume"], input: "a\tA\nb\tB\n")
        #expect(r.status == 0, "\(r)")
        #expect(!h.exists("A") && h.exists("B"), "the logged pair is skipped")
    }

    @Test func runOnlyOptionsAreRefusedByCopy() throws {
        let r = try Harness().run(["copy", "--tag"], input: "")
        #expect(r.status == 1 && r.err.contains("--tag"), "\(r)")
        let extra = try Harness().run(["copy", "cp"], input: "")
        #expect(extra.status == 1, "\(extra)")
    }

    @Test func aNamedPipeIsRefusedInsteadOfBlockingForEver() throws {
        // #15: a FIFO with no writer held the run beyond --timeout and signals.
        let h = try Harness()
        #expect(mkfifo(h.file("pipe"), 0o644) == 0)
        try h.write("file", "data")
        let started = Date()
        let r = try h.run(["copy"], input: "pipe\tout1\nfile\tout2\n")
        #expect(r.status == 123, "\(r)")
        #expect(r.err.contains("copy pipe -> out1: source is a named pipe"), "\(r)")
        #expect(h.read("out2") == Array("data".utf8), "the other pair is copied")
        #expect(Date().timeIntervalSince(started) < 30)
    }
}
