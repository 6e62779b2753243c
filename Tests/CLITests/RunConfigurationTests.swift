// Stage two of parsing: values validated and resolved, mistakes named.
import FuturesCore
import Jobs
@testable import PfuturesCLI
import Testing

private func configure(_ words: [String]) throws -> RunConfiguration {
    let parsed = try OptionParser.parse([Array("run".utf8)] + words.map { Array($0.utf8) }, for: .run)
    return try RunConfiguration(parsed)
}

@Suite struct RunConfigurationTests {
    @Test func parsingStopsAtTheCommand() throws {
        let parsed = try OptionParser.parse(["run", "-j4", "grep", "-n", "foo", "--", "x"].map { Array($0.utf8) }, for: .run)
        #expect(parsed.rest.map { String(decoding: $0, as: UTF8.self) } == ["grep", "-n", "foo", "--", "x"])
        #expect(parsed.last(.jobs) == Array("4".utf8))
    }

    @Test func workerCapForms() throws {
        #expect(try configure(["-j", "3"]).workerCap == 3)
        #expect(try configure(["-j0"]).workerCap == Int.max)
        #expect(try configure(["--max-workers=200%"]).workerCap == 2 * processorCount)
        #expect(try configure([]).workerCap == min(32, processorCount + 4))
    }

    @Test(arguments: [["-j", "+x"], ["--jobs="], ["-j", "x"], ["-n", "0"], ["--timeout", "0"], ["--timeout", "nan"],
                      ["--halt", "soon,fail=0"], ["-d", "ab"], ["--shell-template"], ["-I", "@"],
                      ["--memfree", "8589934592G"], ["--timeout", "1e300%"], ["--timeout", "1e300d"]])
    func badValuesAreUsageErrors(words: [String]) {
        #expect(throws: UsageError.self) { try configure(words) }
    }

    @Test func unknownOptionIsNamed() {
        #expect(throws: UsageError(message: "--bogus: unknown option")) { try configure(["--bogus"]) }
    }

    @Test func timesAndHalt() throws {
        let config = try configure(["--timeout", "1.5", "--kill-after", "0", "--deadline", "60", "--halt", "now,fail=3", "true"])
        #expect(config.timeout == .milliseconds(1500))
        #expect(config.killAfter == .zero)
        #expect(config.deadline == .seconds(60))
        #expect(config.halt == HaltPolicy(when: .now, counting: .fail, count: 3, percent: nil))
        #expect(try configure(["--halt", "soon,success=25%", "true"]).halt
                == HaltPolicy(when: .soon, counting: .success, count: nil, percent: 25))
        #expect(try configure(["--timeout", "1h2m3.5s", "true"]).timeout == .milliseconds(3_723_500))
        #expect(try configure(["--delay", "2d", "true"]).delay == .seconds(172_800))
    }

    @Test func delimiterEscapes() throws {
        #expect(try configure(["-d", "\\t"]).recordFormat == RecordFormat(delimiter: 9, skipsEmpty: false))
        #expect(try configure(["-0"]).recordFormat == .nul)
        // xargs' octal and hex escapes.
        #expect(try configure(["-d", "\\x41"]).recordFormat.delimiter == 0x41)
        #expect(try configure(["-d", "\\012"]).recordFormat.delimiter == 0x0A)
        #expect(try configure(["-d", "\\0"]).recordFormat.delimiter == 0)
        #expect(throws: UsageError.self) { try configure(["-d", "\\x"]) }
        #expect(throws: UsageError.self) { try configure(["-d", "\\400"]) }
        #expect(try configure(["-d", ","]).recordFormat.delimiter == 0x2C)
    }

    @Test func keepOrderTurnsLineBufferIntoGroup() throws {
        #expect(try configure(["--line-buffer", "-k"]).outputMode == .group)
        #expect(try configure(["--line-buffer"]).outputMode == .lineBuffer)
    }
}

@Suite struct ExitStatusTableTests {
    @Test func outcomesMapToTheTable() {
        #expect(ExitStatus.of(.exited(0)) == 0)
        #expect(ExitStatus.of(.exited(1)) == 123)
        #expect(ExitStatus.of(.exited(125)) == 123)
        #expect(ExitStatus.of(.exited(255)) == 124)
        #expect(ExitStatus.of(.signaled(9)) == 125)
        #expect(ExitStatus.of(.timedOut) == 125)
        #expect(ExitStatus.of(.spawnFailed(.cannotRun("x"))) == 126)
        #expect(ExitStatus.of(.spawnFailed(.notFound)) == 127)
    }

    @Test func precedenceChoosesTheMostSevere() {
        #expect(ExitStatus.combine([0, 123, 127]) == 127)
        #expect(ExitStatus.combine([126, 127]) == 127)
        #expect(ExitStatus.combine([123, 125, 124]) == 124)
        #expect(ExitStatus.combine([1, 124]) == 1)
        #expect(ExitStatus.combine([]) == 0)
    }
}

@Suite struct RemoteHostsTests {
    @Test func sshLoginsParseAsGNUParallelWritesThem() throws {
        let full = try SSHLogin(parsing: " 4/me@node1:2222 ")
        #expect(full.slots == 4 && full.destination == "me@node1" && full.port == "2222" && full.name == "me@node1:2222")
        let plain = try SSHLogin(parsing: "node2")
        #expect(plain.slots == nil && plain.port == nil && !plain.isLocal)
        #expect(try SSHLogin(parsing: ":").isLocal)
        #expect(try SSHLogin(parsing: "2/:").slots == 2)
        #expect(throws: UsageError.self) { try SSHLogin(parsing: "x/node") }
        #expect(throws: UsageError.self) { try SSHLogin(parsing: "node:ssh") }
        let command = try SSHLogin(parsing: "2/ssh -p 2222 -i /keys/id me@node3")
        #expect(command.slots == 2 && command.sshCommand == "ssh -p 2222 -i /keys/id" && command.destination == "me@node3")
        let ipv6 = try SSHLogin(parsing: "::1")
        #expect(ipv6.destination == "::1" && ipv6.port == nil && !ipv6.isLocal)
    }

    @Test func slurmCPUsPerNodeExpand() {
        #expect(RemoteHosts.cpusPerNode("4,2(x3)", nodes: 4) == [4, 2, 2, 2])
        #expect(RemoteHosts.cpusPerNode("2(x2)", nodes: 2) == [2, 2])
        #expect(RemoteHosts.cpusPerNode("2(x2)", nodes: 3) == nil)
        #expect(RemoteHosts.cpusPerNode("", nodes: 1) == nil)
    }

    @Test func jobsPerHostAreMinusJOverTheCPUsOfTheLogin() throws {
        var settings = RemoteSettings()
        settings.logins = ["4/h1,h2", ":"]
        let given = try RemoteHosts.hosts(settings, slotsPerHost: 1, executable: Array("/bin/true".utf8))
        #expect(given.map(\.slots) == [1, 1, 1], "-j is per host, as GNU parallel")
        let asked = try RemoteHosts.hosts(settings, slotsPerHost: nil, executable: Array("/bin/true".utf8))
        #expect(asked.map(\.slots) == [4, nil, nil] && asked.map(\.name) == ["h1", "h2", ":"])
        #expect(asked.map(\.launcher.isLocal) == [false, false, true])
    }

    @Test func hostOptionsMeanTheProcessPool() throws {
        let config = try configure(["-S", "h1", "echo"])
        #expect(config.pool == .process && config.remote.logins == ["h1"])
    }
}
