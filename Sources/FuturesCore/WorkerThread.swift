// Starting and joining OS threads without Foundation.
#if canImport(Glibc)
import Glibc
#endif

/// A joinable OS thread running one closure (shared with the other targets
/// of this package, not part of the public API).
package struct WorkerThread: @unchecked Sendable {  // pthread_t is a plain handle
    private let handle: pthread_t

    /// Starts `body` on a new thread named `name` (truncated to 15 bytes).
    /// - Throws: `ThreadStartError` when the system has no thread to give
    ///   (EAGAIN: `ulimit -u` or the kernel's thread limit reached).
    package static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(ThreadStartError)
        -> WorkerThread {
        let box = Unmanaged.passRetained(Box(name: name, body: body))
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, workerThreadEntry, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw ThreadStartError(code: rc)
        }
        return WorkerThread(handle: handle)
    }

    /// Starts `body` on a detached thread that nobody joins (it ends with
    /// its work or with the process).
    /// - Throws: as `start`.
    package static func detach(name: String, _ body: @escaping @Sendable () -> Void) throws(ThreadStartError) {
        pthread_detach(try start(name: name, body).handle)
    }

    /// Runs `body` on a detached thread, or, when no thread can be had, in
    /// the calling thread: for work that may wait but need not run beside
    /// its caller.
    package static func detachOrRun(name: String, _ body: @escaping @Sendable () -> Void) {
        do { try detach(name: name, body) } catch { body() }
    }

    /// Lets the thread end without anyone joining it.
    package func detach() { pthread_detach(handle) }

    /// Waits for the thread to end.
    package func join() { pthread_join(handle, nil) }

    /// True when called on this thread.
    package var isCurrent: Bool { pthread_equal(handle, pthread_self()) != 0 }

    /// pthread_setname_np is hidden from Swift's Glibc module (it needs
    /// _GNU_SOURCE), so write the name where the kernel keeps it.
    fileprivate static func nameCurrentThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    fileprivate final class Box: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }
    }
}

/// A thread could not be started.
package struct ThreadStartError: Error, CustomStringConvertible {
    /// pthread_create's error number (EAGAIN: out of threads or processes).
    package let code: Int32
    /// "cannot start a thread: Resource temporarily unavailable (raise ulimit -u)".
    package var description: String {
        let text = String(cString: strerror(code))
        return code == EAGAIN ? "cannot start a thread: \(text) (raise ulimit -u)" : "cannot start a thread: \(text)"
    }
}

private func workerThreadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let box = Unmanaged<WorkerThread.Box>.fromOpaque(raw!).takeRetainedValue()
    WorkerThread.nameCurrentThread(box.name)
    box.body()
    return nil
}
