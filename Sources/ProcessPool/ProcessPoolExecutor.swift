// ProcessPoolExecutor: concurrent.futures' process pool, for PoolTasks.
//
//   submit(task) ─► queue ─► plan (under the lock) ─► JOBS ─► worker lanes
//        │                                              (WorkerServer)
//        ▼                                                   │
//     Future ◄── reader thread per worker ◄── STARTED/OUTPUT/RESULT
//                monitor thread ── HEARTBEAT ─► every worker; kills the silent
//
// The cap is the number of slots; each worker holds some of the slot numbers
// 1...cap and runs one task per slot, with up to chunksize × (1 + prefetch)
// queued behind it so a worker never idles during the round trip: a task
// that asks (PoolTask.asksBeforeNextTask) holds its lane until the pool has
// run its callbacks (RESUME), and a task waiting behind one that has run
// 50 ms, or behind any when a slot has nothing to do or the cap drops below
// its slot, is recalled (RECALL). Under the lock the pool
// only decides; spawning, writing frames, finishing futures and observer
// calls happen outside it. A worker that dies or goes silent fails exactly
// the tasks it had started (BrokenProcessPool, taskWasRunning); those it
// held but never started go to another worker. Spread over hosts
// (WorkerHost.swift), the pool runs one worker per host holding all the
// host's slots; a host whose worker dies fails every task it held (a
// STARTED may still have been on its way) and is not used again.
import FuturesCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs `PoolTask`s in worker processes, as Python's `ProcessPoolExecutor`.
///
/// The pool's threads hold its state, not the executor: an executor
/// dropped without `shutdown` shuts down by itself (queued tasks still
/// run, then the workers end and its threads with them).
public final class ProcessPoolExecutor: TaskExecutor, Sendable {
    private let core: ProcessPoolCore

    /// - Parameters:
    ///   - maxWorkers: the most tasks run at once (default: the number of cores).
    ///   - slotsPerWorker: tasks one worker process runs at once (default 1).
    ///   - launcher: how a worker is started (default: this program again,
    ///     which must hand `WorkerServer.argument` to `WorkerServer.serve`).
    ///   - chunksize: tasks sent to a worker slot per JOBS frame.
    ///   - prefetch: further chunks sent to a slot while it runs one, so it
    ///     never waits for the round trip (default 0). Such tasks count as
    ///     running: `cancel()` cannot stop them, `shutdown(cancelFutures:)`
    ///     drains them (their futures fail with `CancelledError`).
    ///   - maxTasksPerChild: a worker is replaced after this many tasks.
    ///   - initializer: run once in each worker before its first task; if it
    ///     throws, the pool is broken (`BrokenProcessPool`).
    ///   - heartbeat: liveness settings of both ends.
    ///   - onWorkerStartFailure: told why, when a worker cannot be started
    ///     (no process or descriptor left) while others run: the pool goes
    ///     on with those. With none running, the pool is broken instead.
    public init(maxWorkers: Int? = nil, slotsPerWorker: Int = 1, launcher: WorkerLauncher? = nil,
                            chunksize: Int = 1, prefetch: Int = 0, maxTasksPerChild: Int? = nil,
                            initializer: (any PoolTask)? = nil, heartbeat: Heartbeat = Heartbeat(),
                            onWorkerStartFailure: (@Sendable (String) -> Void)? = nil) {
        core = ProcessPoolCore(cap: maxWorkers ?? processorCount, slotsPerWorker: slotsPerWorker, launcher: launcher, hosts: [],
                  chunksize: chunksize, prefetch: prefetch, maxTasksPerChild: maxTasksPerChild, initializer: initializer,
                  heartbeat: heartbeat, onWorkerStartFailure: onWorkerStartFailure, onHostLost: nil)
    }

    /// A pool spread over `hosts`: one worker per host, started when the
    /// first task is queued, runs as many tasks at once as the host has
    /// slots; the cap is all hosts' slots together. A host whose worker
    /// dies or stays silent for the heartbeat window is lost: every task it
    /// held fails (`BrokenProcessPool`, taskWasRunning; one it may have just
    /// started must not run twice), and it gets no further task. A worker that
    /// ends before its HELLO (no pfutures there, another protocol version)
    /// breaks the pool, as does losing every host.
    /// - Parameters:
    ///   - hosts: where workers run (at least one).
    ///   - chunksize, maxTasksPerChild, initializer, heartbeat: as for a local pool.
    ///   - onHostLost: told once per lost host, with why.
    public init(hosts: [WorkerHost], chunksize: Int = 1, maxTasksPerChild: Int? = nil,
                            initializer: (any PoolTask)? = nil, heartbeat: Heartbeat = Heartbeat(),
                            onHostLost: (@Sendable (String) -> Void)? = nil) {
        precondition(!hosts.isEmpty, "a pool spread over hosts needs at least one host")
        core = ProcessPoolCore(cap: 1, slotsPerWorker: 1, launcher: nil, hosts: hosts, chunksize: chunksize, prefetch: 0,
                  maxTasksPerChild: maxTasksPerChild, initializer: initializer, heartbeat: heartbeat,
                  onWorkerStartFailure: nil, onHostLost: onHostLost)
    }

    deinit { core.abandon() }

    /// The most tasks run at once.
    public var maxWorkers: Int { core.maxWorkers }

    /// Worker processes started so far (replacements included).
    public var startedWorkers: Int { core.startedWorkers }

    /// Schedules the task `makeTask` builds for its slot.
    /// - Throws: `ExecutorShutdownError` after shutdown; `BrokenProcessPool`
    ///   once no worker can be had.
    public func submit<T: PoolTask>(observer: (any TaskObserver)?, _ makeTask: @escaping @Sendable (Int) -> T) throws
        -> Future<T.Output> {
        try core.submit(observer: observer, makeTask)
    }

    /// Sends STOP to every worker: running tasks see their stop switch fire,
    /// tasks queued in a worker fail with `CancelledError`; later workers
    /// get STOP too.
    public func stopRunningTasks() { core.stopRunningTasks() }

    /// Moves the cap; slots above it take no new task, and a worker whose
    /// slots are all above it ends once idle.
    public func adjustMaxWorkers(by delta: Int) { core.adjustMaxWorkers(by: delta) }

    /// Stops accepting tasks; with `cancelFutures`, queued ones are
    /// cancelled (and those queued inside workers by prefetch or chunksize drained); with
    /// `wait`, returns once every worker has exited.
    public func shutdown(wait: Bool = true, cancelFutures: Bool = false) {
        core.shutdown(wait: wait, cancelFutures: cancelFutures)
    }
}

/// The queue, workers, threads and cap of one `ProcessPoolExecutor`: what
/// its reader and monitor threads hold.
/// @unchecked Sendable: all mutable state is behind `lock`.
final class ProcessPoolCore: @unchecked Sendable {
    private let lock = ConditionLock()
    private var cap: Int
    private let slotsPerWorker: Int
    private let launcher: WorkerLauncher
    /// The hosts of a pool spread over machines; empty: workers on this machine.
    private let hosts: [HostState]
    /// The hosts' slots known so far, and SIGUSR1/2's moves on top of them.
    private var hostSlots = 0
    private var capAdjustment = 0
    private var nextHostSlot = 1
    private let onHostLost: (@Sendable (String) -> Void)?
    private let chunksize: Int
    private let prefetch: Int
    private let maxTasksPerChild: Int?
    private let initializer: WireTask?
    private let heartbeat: Heartbeat
    private var queue: [PendingTask] = []
    private var queueHead = 0
    private var links: [WorkerLink] = []
    private var threads: [WorkerThread] = []
    private var abandoned = false  // the executor was dropped: nobody joins
    private var monitorRunning = false
    private var nextID: UInt64 = 0
    private var nextSendOrder: UInt64 = 0
    private var started = 0
    private var isShutdown = false
    private var stopped = false
    /// shutdown(cancelFutures: true) came: a recalled task is cancelled, not queued again.
    private var queueCancelled = false
    private var broken: BrokenProcessPool?
    /// After a worker could not be started while others run: the most slots
    /// the pool holds, until the cap moves again.
    private var slotLimit = Int.max
    private var toldStartFailure = false
    private let onWorkerStartFailure: (@Sendable (String) -> Void)?

    init(cap: Int, slotsPerWorker: Int, launcher: WorkerLauncher?, hosts: [WorkerHost], chunksize: Int,
                 prefetch: Int, maxTasksPerChild: Int?, initializer: (any PoolTask)?, heartbeat: Heartbeat,
                 onWorkerStartFailure: (@Sendable (String) -> Void)?, onHostLost: (@Sendable (String) -> Void)?) {
        self.cap = max(1, cap)
        self.slotsPerWorker = max(1, slotsPerWorker)
        self.launcher = launcher ?? .local(executable: currentExecutable() ?? Array("/proc/self/exe".utf8))
        self.hosts = hosts.map(HostState.init)
        self.onHostLost = onHostLost
        for host in self.hosts {
            guard let slots = host.spec.slots else { continue }
            host.slotNumbers = Array(nextHostSlot..<nextHostSlot + slots)
            nextHostSlot += slots
            hostSlots += slots
        }
        if !hosts.isEmpty { self.cap = max(1, hostSlots) }
        self.chunksize = max(1, chunksize)
        self.prefetch = max(0, prefetch)
        self.maxTasksPerChild = maxTasksPerChild.map { max(1, $0) }
        self.initializer = initializer.map { WireTask(id: 0, slot: 0, name: Array(type(of: $0).taskName.utf8),
                                                      payload: $0.encoded()) }
        self.heartbeat = heartbeat
        self.onWorkerStartFailure = onWorkerStartFailure
    }

    /// The most tasks run at once.
    var maxWorkers: Int { lock.withLock { cap } }

    /// Worker processes started so far (replacements included).
    var startedWorkers: Int { lock.withLock { started } }

    /// Schedules the task `makeTask` builds for its slot.
    /// - Throws: `ExecutorShutdownError` after shutdown; `BrokenProcessPool`
    ///   once no worker can be had.
    func submit<T: PoolTask>(observer: (any TaskObserver)?, _ makeTask: @escaping @Sendable (Int) -> T) throws
        -> Future<T.Output> {
        let future = Future<T.Output>()
        try lock.withLock {
            if let broken { throw broken }
            if isShutdown { throw ExecutorShutdownError() }
            nextID += 1
            queue.append(PendingTask(id: nextID, name: Array(T.taskName.utf8), payload: { makeTask($0).encoded() },
                                     decode: { try T.decodeOutput($0) }, future: future, observer: observer))
        }
        dispatch()
        return future
    }

    /// Sends STOP to every worker: running tasks see their stop switch fire,
    /// tasks queued in a worker fail with `CancelledError`; later workers
    /// get STOP too.
    func stopRunningTasks() {
        let targets: [WorkerLink] = lock.withLock {
            stopped = true
            let targets = links.filter { $0.state != .starting }
            for link in targets { link.enqueue(.stop) }
            return targets
        }
        for link in targets { link.flush() }
    }

    /// Moves the cap; slots above it take no new task, and a worker whose
    /// slots are all above it ends once idle.
    func adjustMaxWorkers(by delta: Int) {
        lock.withLock {
            if hosts.isEmpty {
                cap = max(1, cap + delta)
            } else {
                capAdjustment = max(min(0, 1 - hostSlots), capAdjustment + delta)
                cap = max(1, hostSlots + capAdjustment)
            }
            if delta > 0 { slotLimit = .max }  // asked for more: try starting workers again
        }
        dispatch()
    }

    /// Stops accepting tasks; with `cancelFutures`, queued ones are
    /// cancelled (and those queued inside workers by prefetch or chunksize drained); with
    /// `wait`, returns once every worker has exited.
    func shutdown(wait: Bool, cancelFutures: Bool) {
        let (cancelled, drained): ([(PendingTask, claimed: Bool)], [WorkerLink]) = lock.withLock {
            isShutdown = true
            guard cancelFutures else { return ([], []) }
            queueCancelled = true
            defer { queue.removeAll(); queueHead = 0 }
            // Prefetch and chunks both leave tasks queued inside workers.
            let drained = prefetch > 0 || chunksize > 1 ? links.filter { $0.state != .starting } : []
            for link in drained { link.enqueue(.drain) }
            return (queue[queueHead...].map { ($0, $0.claimed) }, drained)
        }
        // One queued again (recalled, or left by a dead worker) is running
        // already: cancel() cannot end it, so it fails as cancelled.
        for (pending, claimed) in cancelled {
            if claimed { try? pending.future.finish(.failure(CancelledError())) } else { pending.future.cancel() }
        }
        for link in drained { link.flush() }
        dispatch()
        guard wait else { return }
        let toJoin: [WorkerThread] = lock.withLock {
            while !links.isEmpty || monitorRunning { lock.wait() }
            defer { threads.removeAll() }
            return threads
        }
        for thread in toJoin where !thread.isCurrent { thread.join() }
    }

    /// The executor was dropped without a waiting shutdown: queued tasks
    /// still run, then idle workers end and the threads with them; nobody
    /// will join those threads, so they are detached.
    func abandon() {
        shutdown(wait: false, cancelFutures: false)
        let unjoined: [WorkerThread] = lock.withLock {
            abandoned = true
            defer { threads.removeAll() }
            return threads
        }
        for thread in unjoined { thread.detach() }
    }

    /// Keeps a started thread for `shutdown(wait:)` to join, or lets it go
    /// once the executor is gone (a replacement worker's reader, say).
    private func keepLocked(_ thread: WorkerThread) {
        if abandoned { thread.detach() } else { threads.append(thread) }
    }

    // MARK: Dispatch

    private struct Plan {
        var starts: [WorkerLink] = []
        /// JOBS frames to make, in their reserved places.
        var sends: [(WorkerLink, slot: Int, [PendingTask], OutgoingFrame)] = []
        /// Links with frames queued (RECALL, END) to write.
        var flushes: [WorkerLink] = []
        var failed: [PendingTask] = []
    }

    /// Decides under the lock, then acts outside it; again while workers started.
    private func dispatch() {
        var plan = lock.withLock { planLocked() }
        while true {
            for (link, slot, batch, place) in plan.sends {
                let tasks = batch.map { WireTask(id: $0.id, slot: UInt32(slot), name: $0.name, payload: $0.payload(slot)) }
                link.fill(place, with: Frame.jobs(tasks).encoded())
            }
            for link in plan.flushes { link.flush() }
            if !plan.failed.isEmpty, let failure = brokenError {
                for pending in plan.failed { try? pending.future.finish(.failure(failure)) }
            }
            guard !plan.starts.isEmpty else { return }
            for link in plan.starts { start(link) }
            plan = lock.withLock { planLocked() }
        }
    }

    private var brokenError: BrokenProcessPool? { lock.withLock { broken } }

    private func planLocked() -> Plan {
        var plan = Plan()
        if broken == nil, !hosts.isEmpty, let lastLost = hosts.last(where: { $0.lostBecause != nil }),
           hosts.allSatisfy({ $0.lostBecause != nil }) {
            breakLocked("every host was lost (the last: \(lastLost.lostBecause!))")
        }
        if broken != nil {
            plan.failed = Array(queue[queueHead...])
            queue.removeAll()
            queueHead = 0
            for link in links where link.state == .live { endLocked(link, &plan) }
            return plan
        }
        retireLocked(&plan)
        assignLocked(&plan, behindRunning: false)
        let waiting = queue.count - queueHead
        if waiting > 0 && !hosts.isEmpty {
            startHostsLocked(&plan)
            if plan.starts.isEmpty { assignLocked(&plan, behindRunning: true) }
        } else if waiting > 0 {
            var free = freeSlotNumbersLocked()
            var held = links.reduce(0) { $0 + $1.slots.count }
            while waiting > plan.starts.reduce(0, { $0 + $1.slots.count }) && !free.isEmpty && held < slotLimit {
                let take = Array(free.prefix(min(slotsPerWorker, slotLimit - held)))
                held += take.count
                free.removeFirst(take.count)
                let link = WorkerLink(slots: take, launcher: launcher)
                links.append(link)
                plan.starts.append(link)
            }
            if plan.starts.isEmpty { assignLocked(&plan, behindRunning: true) }
        }
        recallLocked(&plan)
        // A worker still running tasks is ended once idle, so that STOP
        // (stopRunningTasks after shutdown) still reaches it.
        if isShutdown && queueHead == queue.count {
            for link in links where link.state == .live && link.held.isEmpty { endLocked(link, &plan) }
        }
        return plan
    }

    /// Whether `slot` is under the cap. Spread over hosts, the cap counts
    /// the slots of hosts not lost, lowest numbers first, so a lost host's
    /// numbers never hold the cap below what the others offer.
    private func inCapLocked(_ slot: Int) -> Bool {
        guard !hosts.isEmpty else { return slot <= cap }
        var below = 0
        for host in hosts where host.lostBecause == nil {
            for number in host.slotNumbers where number < slot { below += 1 }
        }
        return below < cap
    }

    /// A worker for every host that has none, is not lost and has a slot
    /// under the cap.
    private func startHostsLocked(_ plan: inout Plan) {
        for host in hosts where host.link == nil && host.lostBecause == nil {
            if !host.slotNumbers.isEmpty && !host.slotNumbers.contains(where: inCapLocked) { continue }
            let link = WorkerLink(slots: host.slotNumbers, launcher: host.spec.launcher, host: host)
            host.link = link
            links.append(link)
            plan.starts.append(link)
        }
    }

    /// Ends workers that maxTasksPerChild used up, or whose slots the cap
    /// no longer covers, once they are idle.
    private func retireLocked(_ plan: inout Plan) {
        for link in links where link.state == .live && link.held.isEmpty {
            // A host's worker has no slots until its HELLO says how many.
            if usedUpLocked(link) || !link.slots.isEmpty && !link.slots.contains(where: inCapLocked) {
                endLocked(link, &plan)
            }
        }
    }

    /// Whether `link` has been given its maxTasksPerChild tasks (it takes no
    /// more, and ends once idle, so END never passes a task waiting in it).
    private func usedUpLocked(_ link: WorkerLink) -> Bool {
        maxTasksPerChild.map { link.assigned >= $0 } ?? false
    }

    /// Sends END to `link` once what is queued for it is written.
    private func endLocked(_ link: WorkerLink, _ plan: inout Plan) {
        link.state = .ending
        link.enqueue(.end)
        plan.flushes.append(link)
    }

    private func freeSlotNumbersLocked() -> [Int] {
        let taken = Set(links.flatMap { $0.slots })
        var free: [Int] = []
        var n = 1
        while n <= cap && free.count < queue.count - queueHead + slotsPerWorker {
            if !taken.contains(n) { free.append(n) }
            n += 1
        }
        return free
    }

    /// Hands queued tasks to live slots: idle ones only, or also behind
    /// running tasks (up to chunksize × (1 + prefetch) per slot), never
    /// behind one that has run `recallBehindRunningFor`.
    private func assignLocked(_ plan: inout Plan, behindRunning: Bool) {
        let depthLimit = behindRunning ? chunksize * (1 + prefetch) : 1
        let now = behindRunning ? monotonicNanoseconds() : 0
        while queueHead < queue.count {
            var best: (link: WorkerLink, slot: Int, depth: Int)?
            for link in links where link.state == .live && !usedUpLocked(link) {
                for slot in link.slots where inCapLocked(slot) {
                    let depth = link.depth[slot] ?? 0
                    if depth < depthLimit && (best == nil || (depth, slot) < (best!.depth, best!.slot))
                        && (depth == 0 || !runsSlowTaskLocked(link, slot: slot, now: now)) {
                        best = (link, slot, depth)
                    }
                }
            }
            guard let (link, slot, depth) = best else { return }
            let room = behindRunning ? depthLimit - depth : chunksize
            var count = min(chunksize, queue.count - queueHead, room)
            if let limit = maxTasksPerChild { count = min(count, limit - link.assigned) }
            var batch: [PendingTask] = []
            for _ in 0..<count {
                let pending = queue[queueHead]
                queueHead += 1
                if !pending.claimed {
                    guard (try? pending.future.setRunningOrNotifyCancel()) == true else { continue }
                    pending.claimed = true
                }
                pending.slot = slot
                nextSendOrder += 1
                pending.sendOrder = nextSendOrder
                link.held[pending.id] = pending
                batch.append(pending)
            }
            dropTakenPrefix(&queue, head: &queueHead)
            link.depth[slot, default: 0] += batch.count
            link.assigned += batch.count
            if !batch.isEmpty { plan.sends.append((link, slot, batch, link.reserve())) }
        }
    }

    /// A task queued behind one that has run this long is taken back: the
    /// one ahead is no short job, and another slot may be free sooner.
    private static let recallBehindRunningFor = Duration.milliseconds(50).nanoseconds

    /// Whether `slot` of `link` (nil: any) runs a task started `recallBehindRunningFor` ago.
    private func runsSlowTaskLocked(_ link: WorkerLink, slot: Int?, now: Int64) -> Bool {
        link.held.values.contains { ($0.slot == slot || slot == nil) && $0.started && now - $0.startedAt > Self.recallBehindRunningFor }
    }

    /// Takes back tasks queued behind others (RECALL): behind a task that
    /// has run for `recallBehindRunningFor`, in a slot above the cap, or,
    /// one per idle slot (or slot a new worker could take), when the queue
    /// is empty.
    private func recallLocked(_ plan: inout Plan) {
        var idle = 0
        if queueHead == queue.count {
            for link in links where link.state == .live && !usedUpLocked(link) {
                idle += link.slots.count { inCapLocked($0) && (link.depth[$0] ?? 0) == 0 }
            }
            if hosts.isEmpty { idle += max(0, min(cap, slotLimit) - links.reduce(0) { $0 + $1.slots.count }) }
        }
        let now = monotonicNanoseconds()
        // An ending link's input may be closed: what it holds runs there.
        for link in links where link.state == .live && link.held.count > 1 {
            // Most plans recall nothing: look closer only when something may.
            guard idle > 0 || link.slots.contains(where: { !inCapLocked($0) })
                || runsSlowTaskLocked(link, slot: nil, now: now)
            else { continue }
            let bySlot = link.slots.count == 1 ? [link.slots[0]: Array(link.held.values)]
                                               : Dictionary(grouping: link.held.values, by: \.slot)
            for (slot, tasks) in bySlot where tasks.count > 1 {
                // A slot runs its tasks in the order they were sent: the one
                // started (or else the first sent) runs or is about to; the
                // others wait behind it, first sent first.
                let ordered = tasks.sorted { $0.sendOrder < $1.sendOrder }
                let ahead = ordered.first(where: \.started) ?? ordered[0]
                let slow = ahead.started && now - ahead.startedAt > Self.recallBehindRunningFor
                let aboveCap = !inCapLocked(slot)
                for pending in ordered where pending !== ahead && !pending.started && !pending.recalling {
                    guard slow || aboveCap || idle > 0 else { break }
                    if !slow && !aboveCap { idle -= 1 }
                    pending.recalling = true
                    link.enqueue(.recall(id: pending.id))
                    plan.flushes.append(link)
                }
            }
        }
    }

    /// Puts tasks a worker held but never started (recalled, or left by a
    /// worker that died) back in line by submission order, for any slot;
    /// returns them instead when what was queued has been cancelled
    /// (shutdown(cancelFutures:), STOP): they are to fail as cancelled.
    private func requeueLocked(_ tasks: [PendingTask]) -> [PendingTask] {
        for pending in tasks { pending.recalling = false }
        if queueCancelled || stopped { return tasks }
        for pending in tasks {
            let at = queue[queueHead...].firstIndex { $0.id > pending.id } ?? queue.count
            queue.insert(pending, at: at)
        }
        return []
    }

    // MARK: Workers

    /// Spawns `link`'s worker, sends SETUP and starts its reader.
    private func start(_ link: WorkerLink) {
        let pid = link.spawn()
        guard pid > 0 else { return workerNotStarted(link, because: "cannot start a worker process: \(errnoText(-pid))") }
        // A local worker learns of pfutures' death from end of input; judging
        // its silence too would kill every task while pfutures is merely
        // stopped (Ctrl-Z, a debugger).
        let window = link.launcher.isLocal ? nil : heartbeat.window
        link.write(Frame.setup(version: workerProtocolVersion, interval: heartbeat.interval, window: window,
                               slots: UInt32(link.slots.count), initializer: initializer).encoded())
        let stopNow: Bool? = lock.withLock {
            // Live (so tasks go to it) only once a thread reads it.
            do {
                keepLocked(try WorkerThread.start(name: "worker_\(pid)") { [self] in read(link) })
            } catch {
                return nil
            }
            link.state = .live
            started += 1
            // Without a monitor (no thread to be had) workers still end on
            // EOF; the next worker started tries again.
            if !monitorRunning, let monitor = try? WorkerThread.start(name: "heartbeat", { [self] in monitor() }) {
                monitorRunning = true
                keepLocked(monitor)
            }
            if stopped { link.enqueue(.stop) }
            return stopped
        }
        guard let stopNow else {
            // No thread to read it: the worker cannot be used. It has read
            // nothing yet, so nothing it held is lost.
            kill(link.pid, SIGKILL)
            close(link.output)
            link.closeInput()
            _ = link.reap()
            lock.withLock { link.state = .reaped }
            return workerNotStarted(link, because: "cannot start a thread to read worker process \(link.pid): "
                                    + "\(errnoText(EAGAIN)) (raise ulimit -u)")
        }
        if stopNow { link.flush() }
    }

    /// A worker could not be had: the pool goes on with the workers it has
    /// (at most their slots, said once), or, with none, is broken. A host
    /// whose worker cannot be started is lost.
    private func workerNotStarted(_ link: WorkerLink, because reason: String) {
        if let host = link.host {
            let why = "host \(host.spec.name): \(reason)"
            lock.withLock {
                links.removeAll { $0 === link }
                host.link = nil
                host.lostBecause = why
                lock.broadcast()
            }
            onHostLost?(why)
            return
        }
        let tell: Bool = lock.withLock {
            links.removeAll { $0 === link }
            defer { lock.broadcast() }
            return goOnWithoutLocked(because: reason)
        }
        if tell { onWorkerStartFailure?("\(reason); going on with the workers running") }
    }

    /// A local worker the pool cannot have (it could not start, or ended for
    /// want of a thread), already out of `links`: the pool holds at most the
    /// slots of the workers it has, or, with none, is broken. True when that
    /// is to be said (the first time only).
    private func goOnWithoutLocked(because reason: String) -> Bool {
        let held = links.reduce(0) { $0 + $1.slots.count }
        guard held > 0 else {
            breakLocked(reason)
            return false
        }
        slotLimit = held
        defer { toldStartFailure = true }
        return !toldStartFailure
    }

    /// How long a worker may take to say HELLO before it counts as silent.
    private static let connectWindow = Duration.seconds(30)

    /// Notes a worker's HELLO; a host whose slots were not given gets as
    /// many as the worker reported. True when the pool gained slots.
    private func heardHelloLocked(_ link: WorkerLink, host: [UInt8], slots: Int) -> Bool {
        link.helloHost = host
        link.host?.hasAnswered = true
        guard let state = link.host, state.slotNumbers.isEmpty else { return false }
        let count = max(1, slots)
        state.slotNumbers = Array(nextHostSlot..<nextHostSlot + count)
        nextHostSlot += count
        hostSlots += count
        cap = max(1, hostSlots + capAdjustment)
        link.slots = state.slotNumbers
        for slot in link.slots { link.depth[slot] = 0 }
        return true
    }

    private func breakLocked(_ reason: String) {
        if broken == nil { broken = BrokenProcessPool(reason: reason) }
    }

    /// One worker's frames, until its output ends; then what it held is
    /// lost (started) or queued again (not started).
    private func read(_ link: WorkerLink) {
        let input = FrameInput(fd: link.output)
        var failure: String?
        do throws(ProtocolError) {
            while let frame = try input.next() {
                link.heard()
                switch frame {
                case .hello(let version, _, let slots, let host):
                    guard version == workerProtocolVersion else {
                        let name = link.host.map { " on host \($0.spec.name)" }
                            ?? (host.isEmpty ? "" : " on \(String(decoding: host, as: UTF8.self))")
                        lock.withLock { breakLocked("worker process \(link.pid)\(name) speaks protocol version \(version), "
                                                    + "this pfutures \(workerProtocolVersion)") }
                        throw ProtocolError("version mismatch")
                    }
                    if lock.withLock({ heardHelloLocked(link, host: host, slots: Int(slots)) }) { dispatch() }
                case .heartbeat, .goodbye: break
                case .started(let id, let pid):
                    let pending: PendingTask? = lock.withLock {
                        link.held[id]?.started = true
                        link.held[id]?.startedAt = monotonicNanoseconds()
                        link.held[id]?.pid = pid
                        return link.held[id]
                    }
                    pending?.observer?.taskStarted(slot: pending!.slot, pid: pid == 0 ? nil : pid,
                                                   host: link.host?.remoteName)
                case .output(let id, let stream, let bytes):
                    let pending = lock.withLock { link.held[id] }
                    if let observer = pending?.observer { bytes.withUnsafeBytes { observer.taskOutput($0, stream: stream) } }
                case .result(let id, let status, let held, let bytes):
                    let pending: PendingTask? = lock.withLock { link.held.removeValue(forKey: id) }
                    guard let pending else { throw ProtocolError("RESULT for task \(id), which the worker does not hold") }
                    if status == .recalled {
                        let cancelled: [PendingTask] = lock.withLock {
                            link.depth[pending.slot, default: 1] -= 1
                            link.assigned -= 1
                            return requeueLocked([pending])
                        }
                        for task in cancelled { try? task.future.finish(.failure(CancelledError())) }
                        dispatch()
                        continue
                    }
                    pending.complete(status, bytes)
                    // The slot frees only now, and a held lane goes on only
                    // now: a done-callback that stopped the pool (pfutures'
                    // --halt, exit 255) must come before any next task.
                    lock.withLock {
                        link.depth[pending.slot, default: 1] -= 1
                        if held { link.enqueue(.resume(slot: UInt32(pending.slot))) }
                    }
                    if held { link.flush() }
                    dispatch()
                case .initFailed(let why):
                    lock.withLock { breakLocked("initializer failed: \(why)") }
                default:
                    throw ProtocolError("unexpected \(frame.name) frame from a worker")
                }
            }
        } catch {
            failure = "protocol error: \(error.description)"
        }
        close(link.output)
        link.closeInput()
        let endedByPool: Bool = lock.withLock {
            defer { link.state = .reaped }  // its pid may be reused from here on
            return link.state == .ending
        }
        let ending = link.reap()
        var tellShortage = false
        var cancelled: [PendingTask] = []
        let (lost, reason, hostLost, unannounced): ([PendingTask], String, String?, [PendingTask]) = lock.withLock {
            links.removeAll { $0 === link }
            // A worker without threads is one the pool cannot have: go on
            // with the others (said once), as when a worker cannot start.
            if link.endedForWantOfThreads && link.launcher.isLocal { tellShortage = goOnWithoutLocked(because: ending) }
            var reason = link.deathReason ?? failure ?? ending
            var hostLost: String?
            if let host = link.host {
                host.link = nil
                reason = "host \(host.spec.name): \(reason)"
                if link.helloHost == nil && !host.hasAnswered {
                    breakLocked("\(reason) before saying hello (no pfutures worker there, or no connection)")
                } else if !endedByPool && !link.launcher.isLocal {
                    host.lostBecause = reason
                    hostLost = reason
                }
            }
            var lost: [PendingTask] = []
            var again: [PendingTask] = []
            var unannounced: [PendingTask] = []
            // A remote worker may have started a task whose STARTED is still
            // on its way: all it held count as lost, so none runs twice.
            let heldCountsAsStarted = !link.launcher.isLocal && link.helloHost != nil
            for pending in link.held.values {
                if heldCountsAsStarted && !pending.started {
                    pending.started = true
                    unannounced.append(pending)
                }
                if pending.started || broken != nil { lost.append(pending) } else { again.append(pending) }
            }
            link.held.removeAll()
            cancelled = requeueLocked(again)
            lock.broadcast()
            return (lost, reason, hostLost, unannounced)
        }
        for pending in cancelled { try? pending.future.finish(.failure(CancelledError())) }
        // Told where they ran, so their loss names the host.
        for pending in unannounced {
            pending.observer?.taskStarted(slot: pending.slot, pid: nil, host: link.host?.remoteName)
        }
        if let hostLost { onHostLost?("\(hostLost); no further job goes there") }
        if tellShortage { onWorkerStartFailure?("\(ending); going on with the workers running") }
        let poolError = brokenError
        // A worker killed (or gone silent) cannot end its tasks; on this
        // machine their process groups are ours to end, so none outlives it.
        if link.launcher.isLocal {
            for pending in lost where pending.pid > 0 { kill(-pending.pid, SIGKILL) }
        }
        for pending in lost {
            let error = pending.started ? BrokenProcessPool(reason: reason, taskWasRunning: true)
                                        : poolError ?? BrokenProcessPool(reason: reason)
            try? pending.future.finish(.failure(error))
        }
        dispatch()
    }

    /// Sends heartbeats and kills workers silent for longer than the window.
    private func monitor() {
        var lastRound = monotonicNanoseconds()
        while true {
            let live: [WorkerLink]? = lock.withLock {
                if isShutdown && links.isEmpty {
                    monitorRunning = false
                    lock.broadcast()
                    return nil
                }
                _ = lock.wait(until: Deadline.after(heartbeat.interval))
                return links.filter { $0.state != .starting }
            }
            guard let live else { return }
            let beat = Frame.heartbeat.encoded()
            // A round far later than asked means this process was stopped
            // (Ctrl-Z, a debugger) or starved: it could not listen, so the
            // silence it measured is its own.
            let now = monotonicNanoseconds()
            if now - lastRound > heartbeat.interval.nanoseconds * 2 + 1_000_000_000 {
                for link in live { link.heard() }
            }
            lastRound = now
            // A task may wait behind one that has since run long (RECALL).
            dispatch()
            for link in live {
                // Unread frames waiting mean pfutures is the slow one (its
                // reader blocked writing output), not the worker.
                var pending = pollfd(fd: link.output, events: Int16(POLLIN), revents: 0)
                if poll(&pending, 1, 0) > 0 { link.heard() }
                // Before its HELLO a worker may still be connecting (ssh,
                // srun waiting for a node): that silence gets longer.
                let window = link.helloHost == nil ? max(heartbeat.window, Self.connectWindow) : heartbeat.window
                if link.silence > window.nanoseconds {
                    let seconds = Double(link.silence) / 1e9
                    lock.withLock {
                        guard link.state != .reaped else { return }
                        if link.deathReason == nil {
                            link.deathReason = "worker process \(link.pid) silent for \(Int(seconds)) s"
                        }
                        // The whole group: a launcher's shell may have children holding the pipes.
                        if link.pid > 0 { kill(-link.pid, SIGKILL) }
                    }
                } else {
                    link.write(beat)
                }
            }
        }
    }
}
