// Real engines for the remote-worker tests, started by the tests themselves
// with the scripts in scripts/: an sshd on 127.0.0.1 (hosts h1 and h2) and a
// single-machine Slurm (nodes n1 and n2). When one cannot be had, the test
// fails saying why; it never skips.
import Foundation
import Testing

/// The repository's root, from this file's place in it.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Runs a shell script; its status, stdout and stderr. Spawned and reaped
/// here rather than with Foundation's Process, whose waitUntilExit missed
/// the exit of a script that leaves daemons behind (the Slurm fixture).
@discardableResult
func shell(_ script: String, environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("pfutures-shell-\(UUID().uuidString)").path
    defer { unlink(base + ".out"); unlink(base + ".err") }
    // Daemons started here must not hold other tests' pipes (they would
    // never see end of input): close what the test process leaked first.
    let closeLeaked = "for p in /proc/$$/fd/*; do n=${p##*/}; if [ \"$n\" -gt 2 ]; then eval \"exec $n>&-\"; fi; done"
    let wrapped = "\(closeLeaked); exec </dev/null >'\(base).out' 2>'\(base).err'; \(script)"
    let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
    let argv = ["/bin/bash", "-c", wrapped]
    var pid: pid_t = 0
    let cArgv = argv.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup($0) } + [nil]
    defer { for p in cArgv + cEnv { free(p) } }
    let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, cArgv, cEnv)
    guard spawned == 0 else { throw FixtureError(description: "cannot start /bin/bash: \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
    let exited = status & 0x7F == 0
    return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), read(base + ".out"), read(base + ".err"))
}

struct FixtureError: Error, CustomStringConvertible { let description: String }

/// A private sshd; `h1` and `h2` in its ssh_config are both it.
final class TestSSHD {
    let directory: String
    private let pid: Int32

    init(in harness: Harness) throws {
        directory = harness.file("sshd")
        let started = try shell("'\(repositoryRoot)/scripts/test-sshd.sh' '\(directory)'")
        guard started.status == 0, let pid = Int32(started.out.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw FixtureError(description: "NO SSHD, remote-worker test cannot run: \(started.err)")
        }
        self.pid = pid
    }

    deinit { kill(pid, SIGTERM) }

    /// The options that make pfutures use this sshd and this build.
    var options: [String] { ["--ssh", "ssh -F \(directory)/ssh_config", "--remote-pfutures", Harness.binary] }
}

/// A private Slurm cluster of two nodes; clients find it through SLURM_CONF.
final class TestSlurm {
    let directory: String

    init(in harness: Harness) throws {
        directory = harness.file("slurm")
        let started = try shell("'\(repositoryRoot)/scripts/test-slurm.sh' '\(directory)'")
        guard started.status == 0 else {
            _ = try? shell("'\(repositoryRoot)/scripts/test-slurm.sh' --stop '\(directory)'")
            throw FixtureError(description: "NO SLURM, --slurm test cannot run: \(started.err)")
        }
    }

    deinit { _ = try? shell("'\(repositoryRoot)/scripts/test-slurm.sh' --stop '\(directory)'") }

    var environment: [String: String] { ["SLURM_CONF": "\(directory)/slurm.conf"] }
}

/// The job log's lines as (seq, host, exit value), header dropped.
func jobLogRows(_ harness: Harness, _ name: String) -> [(seq: Int, host: String, exit: Int)] {
    String(decoding: harness.read(name), as: UTF8.self).split(separator: "\n").dropFirst().compactMap { line in
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count >= 9, let seq = Int(fields[0]), let exit = Int(fields[6]) else { return nil }
        return (seq, String(fields[1]), exit)
    }
}
