// Hosts of a process pool spread over machines: one worker per host, on
// one stream, running as many tasks at once as the host has slots. A host
// whose worker dies or goes silent is lost for the rest of the run, with
// every task it held (started or about to: its STARTED may not have
// crossed the link yet, and a task must never run twice); one
// whose worker never says HELLO (no pfutures there, another protocol
// version, no connection) breaks the pool with an error naming it.

/// One machine a process pool runs a worker on.
public struct WorkerHost: Sendable {
    /// How the host is named in messages, the job log and events (e.g. the
    /// ssh login `user@node1`).
    public var name: String
    /// How its worker is started (`ssh node1 pfutures __pfutures-worker`, an `srun` step).
    public var launcher: WorkerLauncher
    /// Tasks it runs at once; nil: as many as the worker reports cores.
    public var slots: Int?

    /// - Parameters: name: the host in messages; launcher: how its worker
    ///   starts; slots: tasks at once (nil: its core count).
    public init(name: String, launcher: WorkerLauncher, slots: Int?) {
        self.name = name
        self.launcher = launcher
        self.slots = slots.map { max(1, $0) }
    }
}

/// A host as the pool follows it. Mutable fields: under the pool's lock.
final class HostState: @unchecked Sendable {
    let spec: WorkerHost
    /// Its global slot numbers, kept across worker restarts; empty until
    /// known (given, or from its worker's HELLO).
    var slotNumbers: [Int] = []
    var link: WorkerLink?
    /// Why it was lost; a lost host gets no further task.
    var lostBecause: String?
    /// A worker of it said HELLO once: a later one that fails is a lost
    /// host, not a broken pool.
    var hasAnswered = false

    init(_ spec: WorkerHost) { self.spec = spec }

    /// The name observers see: nil for a worker on this machine.
    var remoteName: String? { spec.launcher.isLocal ? nil : spec.name }
}
