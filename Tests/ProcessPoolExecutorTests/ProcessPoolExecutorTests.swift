// ProcessPoolExecutor: results and errors cross the process boundary, map
// keeps order, a crashed worker breaks only its task, workers are reused or
// replaced, and shutdown behaves as the thread pool's.
import Foundation
import Futures
import TaskFixtures
import Testing

private let workerProgram = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("task-worker")

private func pool(_ workers: Int, maxTasksPerChild: Int? = nil) -> ProcessPoolExecutor {
    ProcessPoolExecutor(maxWorkers: workers, executable: workerProgram, maxTasksPerChild: maxTasksPerChild)
}

/// Whether this process has a thread named `name` (from /proc).
private func hasThread(named name: String) -> Bool {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.contains { tid in
        (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .newlines) == name
    }
}

@Suite struct ProcessPoolExecutorTests {
    @Test func aDroppedPoolRunsItsQueueThenItsWorkerAndThreadsEnd() throws {
        var futures: [Future<Int>] = []
        let pid: Int32
        do {
            let executor = pool(1)
            pid = try executor.submit(WorkerPID()).result(timeout: .seconds(60))
            futures = try (1...5).map { try executor.submit(Square($0)) }
            #expect(hasThread(named: "worker_\(pid)"))
        }
        #expect(try futures.map { try $0.result(timeout: .seconds(60)) } == [1, 4, 9, 16, 25],
                "tasks queued before the pool was dropped still run")
        func gone() -> Bool { kill(pid, 0) == -1 && errno == ESRCH && !hasThread(named: "worker_\(pid)") }
        for _ in 0..<3000 where !gone() { usleep(10_000) }
        #expect(gone(), "the worker process of a dropped pool must end and be reaped, its reader thread too")
    }

    @Test func resultsAndErrorsComeBack() throws {
        let executor = pool(2)
        defer { executor.shutdown() }
        #expect(try executor.submit(Square(7)).result(timeout: .seconds(60)) == 49)
        #expect(throws: RemoteTaskError(task: "Fail", message: "nope")) {
            try executor.submit(Fail("nope")).result(timeout: .seconds(60))
        }
    }

    @Test func mapKeepsInputOrder() throws {
        let executor = pool(3)
        defer { executor.shutdown() }
        let squares = try executor.map((1...30).map(Square.init), timeout: .seconds(60)).collect()
        #expect(squares == (1...30).map { $0 * $0 })
    }

    @Test func crashedWorkerBreaksOnlyItsTask() throws {
        let executor = pool(1)
        defer { executor.shutdown() }
        let before = try executor.submit(Square(2))
        let crash = try executor.submit(Crash())
        let after = try (3...5).map { try executor.submit(Square($0)) }
        #expect(try before.result(timeout: .seconds(60)) == 4)
        #expect(throws: BrokenProcessPool.self) { try crash.result(timeout: .seconds(60)) }
        #expect(try after.map { try $0.result(timeout: .seconds(60)) } == [9, 16, 25], "a new worker took over")
        #expect(executor.startedWorkers == 2)
    }

    @Test func workersAreReusedAndCapped() throws {
        let executor = pool(2)
        defer { executor.shutdown() }
        let pids = try (0..<12).map { _ in try executor.submit(WorkerPID(pauseMilliseconds: 20)) }
            .map { try $0.result(timeout: .seconds(60)) }
        #expect(Set(pids).count <= 2)
        #expect(!pids.contains(getpid()), "tasks ran in other processes")
    }

    @Test func maxTasksPerChildReplacesWorkers() throws {
        let executor = pool(1, maxTasksPerChild: 1)
        defer { executor.shutdown() }
        let pids = try (0..<4).map { _ in try executor.submit(WorkerPID()) }.map { try $0.result(timeout: .seconds(60)) }
        #expect(Set(pids).count == 4)
    }

    @Test func shutdownCancelsQueuedTasksAndRefusesNewOnes() throws {
        let executor = pool(1)
        let running = try executor.submit(WorkerPID(pauseMilliseconds: 300))
        let queued = try (0..<5).map { try executor.submit(Square($0)) }
        executor.shutdown(wait: true, cancelFutures: true)
        #expect(try running.result(timeout: .seconds(60)) > 0)
        #expect(queued.allSatisfy { $0.isDone })
        #expect(queued.contains { $0.isCancelled })
        #expect(throws: ExecutorShutdownError.self) { _ = try executor.submit(Square(1)) }
    }
}

@Suite struct BuiltinTaskTests {
    @Test func commandTaskRunsInAWorker() throws {
        let executor = pool(1)
        defer { executor.shutdown() }
        let ok = try executor.submit(CommandTask(["sh", "-c", "echo out; echo err >&2; exit 3"])).result(timeout: .seconds(60))
        #expect(ok == CommandTask.Output(status: 3, stdout: Data("out\n".utf8), stderr: Data("err\n".utf8)))
        #expect(throws: RemoteTaskError.self) { try executor.submit(CommandTask([])).result(timeout: .seconds(60)) }
    }

    @Test func copyTaskCopiesContentsAndMode() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-copytask-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("src").path
        try Data("payload".utf8).write(to: URL(fileURLWithPath: source))
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: source)
        let executor = pool(1)
        defer { executor.shutdown() }
        // A directory destination would receive "src" itself: the source's own place, so use a subdirectory.
        let inside = directory.appendingPathComponent("inside")
        try FileManager.default.createDirectory(at: inside, withIntermediateDirectories: true)
        #expect(try executor.submit(CopyTask(source, to: inside.path)).result(timeout: .seconds(60)) == 7)
        #expect(try Data(contentsOf: inside.appendingPathComponent("src")) == Data("payload".utf8))
        #expect(try executor.submit(CopyTask(source, to: directory.appendingPathComponent("dst").path))
            .result(timeout: .seconds(60)) == 7)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("dst").path)
        #expect(attributes[.posixPermissions] as? Int == 0o640)
        #expect(try Data(contentsOf: directory.appendingPathComponent("dst")) == Data("payload".utf8))
        #expect(throws: RemoteTaskError.self) {
            try executor.submit(CopyTask(directory.path + "/missing", to: directory.path + "/x")).result(timeout: .seconds(60))
        }
    }
}

@Suite struct ProcessPoolLifecycleTests {
    @Test func doneCallbackMaySubmitToItsOwnPool() throws {
        let executor = pool(1)
        defer { executor.shutdown() }
        let second = Future<Future<Int>?>()
        let first = try executor.submit(Square(3))
        first.addDoneCallback { done in
            // Runs on the pool's reader thread: a submit from here must not deadlock.
            try second.setResult(try executor.submit(Square(try done.result())))
        }
        #expect(try second.result(timeout: .seconds(60))?.result(timeout: .seconds(60)) == 81)
    }

    /// A task that failed holds its slot: the done-callback that shuts the
    /// pool down (as --halt does) comes before the task queued behind it.
    @Test func aFailureHoldsTheTaskQueuedBehindItUntilItsCallbacksRan() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pp-hold-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("log").path
        for round in 0..<3 {
            let go = dir.appendingPathComponent("go.\(round)").path
            let executor = ProcessPoolExecutor(maxWorkers: 1, launcher: .local(executable: Array(workerProgram.path.utf8)),
                                               prefetch: 2)
            // All three are in the worker's lane before the first ends.
            let first = try executor.submit(WorkTask(.step(round, log: log, create: nil, waitFor: go)))
            let failed = try executor.submit(Fail("stop here"))
            failed.addDoneCallback { _ in executor.shutdown(wait: false, cancelFutures: true) }
            let behind = try executor.submit(WorkTask(.step(100 + round, log: log, create: nil, waitFor: nil)))
            _ = FileManager.default.createFile(atPath: go, contents: nil)
            #expect(try first.result(timeout: .seconds(60)) == round)
            #expect(try failed.exception(timeout: .seconds(60)) is RemoteTaskError)
            #expect(try behind.exception(timeout: .seconds(60)) is CancelledError)
            executor.shutdown()
        }
        let lines = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!lines.contains("start 10"), "a task queued behind a failure started: \(lines)")
    }

    /// A task queued behind a long one goes to the slot that has nothing to do.
    @Test func aTaskQueuedBehindALongOneIsRecalledToAnIdleSlot() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pp-recall-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = dir.appendingPathComponent("started").path, release = dir.appendingPathComponent("release").path
        let executor = ProcessPoolExecutor(maxWorkers: 2, launcher: .local(executable: Array(workerProgram.path.utf8)),
                                           prefetch: 1)
        defer {
            _ = FileManager.default.createFile(atPath: release, contents: nil)
            executor.shutdown()
        }
        let long = try executor.submit(WorkTask(.step(1, log: nil, create: started, waitFor: release)))
        while access(started, F_OK) != 0 { usleep(5_000) }
        // Slot 1 runs the long task; these two fill slot 2 and queue behind slot 1.
        let quick = try (2...4).map { try executor.submit(WorkTask(.value($0))) }
        #expect(try quick.map { try $0.result(timeout: .seconds(60)) } == [2, 3, 4],
                "every quick task ended while the long one still runs")
        #expect(!long.isDone)
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        #expect(try long.result(timeout: .seconds(60)) == 1)
    }

    @Test func workerRunningFourTasksKilledLosesExactlyThoseFour() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pp-four-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // One worker process with four slots: the four held tasks run in it at once.
        let executor = ProcessPoolExecutor(maxWorkers: 4, executable: workerProgram, slotsPerWorker: 4)
        defer { executor.shutdown() }
        let never = dir.appendingPathComponent("never").path
        let held = try (1...4).map { n in
            try executor.submit(WorkTask(.step(n, log: nil, create: dir.appendingPathComponent("started.\(n)").path,
                                               waitFor: never)))
        }
        let rest = try (5...10).map { try executor.submit(WorkTask(.value($0))) }
        let pidFiles = (1...4).map { dir.appendingPathComponent("started.\($0)").path }
        let deadline = Date().addingTimeInterval(60)
        while !pidFiles.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) && Date() < deadline { usleep(10_000) }
        let pids = Set(pidFiles.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) })
        #expect(pids.count == 1, "all four ran in one worker: \(pids)")
        let worker = try #require(pids.first.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        kill(worker, SIGKILL)
        for future in held {
            let error = try future.exception(timeout: .seconds(60))
            #expect((error as? BrokenProcessPool)?.taskWasRunning == true, "\(String(describing: error))")
        }
        #expect(try rest.map { try $0.result(timeout: .seconds(60)) } == Array(5...10), "the rest ran in a new worker")
    }
}
