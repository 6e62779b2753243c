// Where a run's jobs go beyond this machine: -S/--sshlogin, --sshloginfile,
// --launcher and --slurm turned into the process pool's hosts, each with the
// command that starts its worker (ssh, the user's launcher, or an srun step).
import Jobs
import ProcessPool
#if canImport(Glibc)
import Glibc
#endif

/// The options that send jobs to other machines.
struct RemoteSettings: Sendable, Equatable {
    /// -S values, each a comma-separated list of logins.
    var logins: [String] = []
    /// --sshloginfile paths.
    var loginFiles: [[UInt8]] = []
    var slurm = false
    /// --launcher: a shell command with {host}, replacing ssh.
    var launcher: String?
    /// --remote-pfutures: the program run on the other end.
    var remotePfutures: [UInt8]?
    /// --ssh: the ssh command, run by the shell.
    var ssh = "ssh"

    /// Whether the run uses other machines.
    var isRequested: Bool { !logins.isEmpty || !loginFiles.isEmpty || slurm }
}

/// One GNU parallel ssh login: `[N/][user@]HOST[:PORT]`, `[N/]SSHCOMMAND HOST`
/// (e.g. `ssh -p 2222 node1`), or `:` for this machine.
struct SSHLogin: Equatable {
    /// The host's CPUs given as `N/`: its job slots unless -j is given.
    var slots: Int?
    /// `user@host` as ssh takes it; `:` for this machine.
    var destination: String
    var port: String?
    /// The ssh command the login names for itself, replacing --ssh.
    var sshCommand: String?

    var isLocal: Bool { destination == ":" }
    /// The host as messages and the job log name it.
    var name: String { port.map { "\(destination):\($0)" } ?? destination }

    /// - Throws: the reason when `text` is not a login.
    init(parsing text: String) throws(UsageError) {
        var rest = Substring(text.trimmingSpaces)
        // `N/` counts only before any space: `ssh -i /key node` has none.
        if let slash = rest.firstIndex(of: "/"), !rest[..<slash].contains(" ") {
            guard let n = Int(rest[..<slash]), n > 0 else {
                throw UsageError(message: "--sshlogin: '\(text)': the CPUs before / are not a positive number")
            }
            slots = n
            rest = rest[rest.index(after: slash)...]
        }
        let words = rest.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let last = words.last else { throw UsageError(message: "--sshlogin: '\(text)' names no host") }
        if words.count > 1 { sshCommand = words.dropLast().joined(separator: " ") }
        var host = last
        // One colon separates a port; more are an IPv6 address.
        if host != ":", host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isNumber) else {
                throw UsageError(message: "--sshlogin: '\(text)': '\(port)' is not a port number")
            }
            self.port = String(port)
            host = host[..<colon]
        }
        guard !host.isEmpty, !(host == ":" && sshCommand != nil) else {
            throw UsageError(message: "--sshlogin: '\(text)' is not [N/][user@]HOST[:PORT]")
        }
        destination = String(host)
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" || text.last == "\r" { text.removeLast() }
        return text
    }
}

/// Builds the pool's hosts; every failure is one line for the user.
enum RemoteHosts {
    /// Why hosts could not be had.
    struct Failure: Error { let message: String }

    /// The hosts `settings` name. `slotsPerHost`: -j when given (GNU
    /// parallel's jobs per host); `executable`: this pfutures, for `:` and Slurm.
    static func hosts(_ settings: RemoteSettings, slotsPerHost: Int?, executable: [UInt8]) throws(Failure) -> [WorkerHost] {
        if settings.slurm { return try slurmHosts(settings, slotsPerHost: slotsPerHost, executable: executable) }
        var logins: [SSHLogin] = []
        do throws(UsageError) {
            for list in settings.logins {
                for item in list.split(separator: ",") where !item.allSatisfy({ $0 == " " }) {
                    logins.append(try SSHLogin(parsing: String(item)))
                }
            }
            for path in settings.loginFiles { logins += try loginFile(path) }
        } catch {
            throw Failure(message: error.message)
        }
        guard !logins.isEmpty else { throw Failure(message: "--sshloginfile: no login in the file") }
        let remote = settings.remotePfutures ?? Array("pfutures".utf8)
        var hosts: [WorkerHost] = []
        for login in logins {
            // GNU parallel: -j is the jobs per host; N/ is the host's CPUs.
            let slots = slotsPerHost ?? login.slots
            if login.isLocal {
                hosts.append(WorkerHost(name: ":", launcher: .local(executable: executable), slots: slots))
                continue
            }
            let launcher = try settings.launcher.map { (command) throws(Failure) in
                try shellLauncher(command, host: login.name, remote: remote)
            } ?? sshLauncher(login, ssh: settings.ssh, remote: remote)
            hosts.append(WorkerHost(name: login.name, launcher: launcher, slots: slots))
        }
        return hosts
    }

    /// Logins from an --sshloginfile: one a line, `#` comments, blank lines skipped.
    private static func loginFile(_ path: [UInt8]) throws(UsageError) -> [SSHLogin] {
        let name = String(decoding: path, as: UTF8.self)
        guard let bytes = readWholeFile(path) else {
            throw UsageError(message: "--sshloginfile: cannot read \(name): \(errnoText(errno))")
        }
        var logins: [SSHLogin] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let text = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard !text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) else { continue }
            logins.append(try SSHLogin(parsing: String(text)))
        }
        return logins
    }

    /// `ssh … LOGIN exec PFUTURES __pfutures-worker`, through the shell so
    /// that --ssh may hold quoted words. Batch mode: ssh runs in its own
    /// process group and cannot ask for a password, so it fails at once
    /// instead of waiting. Keep-alives end ssh on a dead link; a control
    /// master per login and run lets a restarted worker reuse the connection.
    static func sshLauncher(_ login: SSHLogin, ssh: String, remote: [UInt8]) -> WorkerLauncher {
        var options = ["-o", "BatchMode=yes", "-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax=3",
                       "-o", "ControlMaster=auto", "-o", "ControlPersist=no",
                       "-o", "ControlPath=/tmp/pfutures-ssh-\(getuid())-\(getpid())-\(fnv1a(login.name))-%C"]
        if let port = login.port { options += ["-p", port] }
        options += ["--", login.destination]
        let command = Array("exec ".utf8) + shellQuoted(remote) + Array(" \(WorkerServer.argument)".utf8)
        let shell = Array("/bin/sh".utf8)
        let script = "exec \(login.sshCommand ?? ssh) \"$@\""
        return WorkerLauncher(path: shell, arguments: [shell, Array("-c".utf8), Array(script.utf8), Array("sh".utf8)]
                                  + options.map { Array($0.utf8) } + [command], isLocal: false)
    }

    /// --launcher: `sh -c 'CMD PFUTURES __pfutures-worker'`, {host} filled in quoted.
    private static func shellLauncher(_ command: String, host: String, remote: [UInt8]) throws(Failure) -> WorkerLauncher {
        let quotedHost = String(decoding: shellQuoted(Array(host.utf8)), as: UTF8.self)
        let script = command.replacing("{host}", with: quotedHost) + " "
            + String(decoding: shellQuoted(remote), as: UTF8.self) + " " + WorkerServer.argument
        let shell = Array("/bin/sh".utf8)
        return WorkerLauncher(path: shell, arguments: [shell, Array("-c".utf8), Array(script.utf8)], isLocal: false)
    }

    // MARK: Slurm

    /// One `srun` step per node of the allocation, each running one worker
    /// with the node's CPUs.
    private static func slurmHosts(_ settings: RemoteSettings, slotsPerHost: Int?, executable: [UInt8]) throws(Failure)
        -> [WorkerHost] {
        guard getenv("SLURM_JOB_ID") != nil else {
            throw Failure(message: "--slurm: not inside a Slurm allocation (SLURM_JOB_ID is not set); "
                          + "run pfutures under salloc or sbatch")
        }
        guard let nodeList = environmentValue("SLURM_JOB_NODELIST") ?? environmentValue("SLURM_NODELIST") else {
            throw Failure(message: "--slurm: SLURM_JOB_NODELIST is not set")
        }
        guard let srun = JobLauncher.shared.path(of: Array("srun".utf8)) else {
            throw Failure(message: "--slurm: srun is not on PATH")
        }
        let nodes = try expandNodeList(nodeList)
        let cpus = cpusPerNode(environmentValue("SLURM_JOB_CPUS_PER_NODE") ?? "", nodes: nodes.count)
        let remote = settings.remotePfutures ?? executable
        return nodes.enumerated().map { index, node in
            let nodeCPUs = cpus?[index]
            var argv = ["srun", "--nodes=1", "--ntasks=1", "--nodelist=\(node)", "--exact", "--quiet"]
            if let nodeCPUs { argv.append("--cpus-per-task=\(nodeCPUs)") }
            let launcher = WorkerLauncher(path: srun, arguments: argv.map { Array($0.utf8) }
                                          + [remote, Array(WorkerServer.argument.utf8)], isLocal: false)
            return WorkerHost(name: node, launcher: launcher, slots: slotsPerHost ?? nodeCPUs)
        }
    }

    /// `n[1-2],gpu3` as host names, from `scontrol show hostnames`.
    private static func expandNodeList(_ list: String) throws(Failure) -> [String] {
        guard let scontrol = JobLauncher.shared.path(of: Array("scontrol".utf8)) else {
            throw Failure(message: "--slurm: scontrol is not on PATH (needed to expand the node list \(list))")
        }
        let argv = ["scontrol", "show", "hostnames", list].map { Array($0.utf8) }
        guard let output = captureOutput(path: scontrol, argv: argv) else {
            throw Failure(message: "--slurm: 'scontrol show hostnames \(list)' failed")
        }
        let nodes = String(decoding: output, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        guard !nodes.isEmpty else { throw Failure(message: "--slurm: the allocation has no node (\(list))") }
        return nodes
    }

    /// SLURM_JOB_CPUS_PER_NODE (`4,2(x3)`) as one count per node; nil when
    /// it does not describe `nodes` nodes.
    static func cpusPerNode(_ text: String, nodes: Int) -> [Int]? {
        var counts: [Int] = []
        for part in text.split(separator: ",") {
            if let open = part.firstIndex(of: "("), part.hasSuffix(")"),
               let n = Int(part[..<open]), let times = Int(part[part.index(open, offsetBy: 2)..<part.index(before: part.endIndex)]) {
                counts += Array(repeating: n, count: times)
            } else if let n = Int(part) {
                counts.append(n)
            } else {
                return nil
            }
        }
        return counts.count == nodes ? counts : nil
    }

    /// The number of nodes of the allocation this run is in (1 outside one).
    static var allocationNodes: Int {
        guard getenv("SLURM_JOB_ID") != nil, let text = environmentValue("SLURM_JOB_NUM_NODES") ?? environmentValue("SLURM_NNODES")
        else { return 1 }
        return Int(text) ?? 1
    }
}

private func environmentValue(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// A 64-bit FNV-1a hash as 16 hex digits: a short, stable name for a login.
private func fnv1a(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    let digits = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
