import Foundation
import Glibc

/// One batch at a time per results database, and per embedded lab: a second one would run the same
/// cells twice and restart the guest the first one is migrating. flock() locks, so a batch that
/// dies (even by SIGKILL) releases them with its process.
final class BatchLock {
    static let labLockPath = "/run/migscope-lab.lock"
    private var descriptors: [Int32] = []

    init(database: String, lab: Bool) throws {
        do {
            try take(database + ".lock", what: "the results database \(database)")
            if lab { try take(Self.labLockPath, what: "the embedded lab") }
        } catch {
            release()
            throw error
        }
    }

    private func take(_ path: String, what: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BatchError("cannot lock \(what) (\(path)): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw BatchError("another batch\(holder.isEmpty ? "" : " (pid \(holder))") is running on \(what); wait for it to end, or use another --db\(what.hasPrefix("the embedded") ? " (the lab runs one batch at a time)" : "")")
        }
        _ = ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        descriptors.append(fd)
    }

    func release() {
        for fd in descriptors { close(fd) }
        descriptors = []
    }
}
