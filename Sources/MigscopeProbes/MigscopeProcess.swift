import Foundation
import Glibc

/// Whether a migscope process still runs: what a journal entry's writer is judged by.
public enum MigscopeProcess {
    /// The pid runs and is a migscope (a pid reused by another program is not the writer).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        return command.contains("migscope")
    }
}
