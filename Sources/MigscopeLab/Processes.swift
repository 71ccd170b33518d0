import Foundation

/// Finding and ending the lab's processes, by the namespaces they run in.
enum Processes {
    /// PIDs of every process in a network namespace (`ip netns pids`).
    static func inNamespace(_ ns: String) -> [Int32] {
        guard let out = try? Command.run(["ip", "netns", "pids", ns], check: false), out.status == 0 else { return [] }
        return out.stdout.split(separator: "\n").compactMap { Int32($0) }
    }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    /// SIGTERM, then SIGKILL for those still alive after `grace` seconds.
    static func end(_ pids: [Int32], grace: Double = 5) {
        let mine = getpid()
        let targets = pids.filter { $0 != mine && $0 > 1 }
        guard !targets.isEmpty else { return }
        for p in targets { kill(p, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline, targets.contains(where: isAlive) { Thread.sleep(forTimeInterval: 0.1) }
        for p in targets where isAlive(p) { kill(p, SIGKILL) }
        let hard = Date().addingTimeInterval(5)
        while Date() < hard, targets.contains(where: isAlive) { Thread.sleep(forTimeInterval: 0.05) }
        // Children we spawned ourselves must be reaped, or they linger as zombies.
        var status: Int32 = 0
        for p in targets { _ = waitpid(p, &status, WNOHANG) }
    }

    static func command(of pid: Int32) -> String {
        guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: d.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }
}
