import Foundation

/// Writes the exposition text to a file for node_exporter's textfile collector, replacing it whole
/// each time (written beside it, then renamed), so the collector never reads half of it.
public struct MetricsFile: Sendable {
    public let path: String

    /// Refuses a path whose folder does not exist, or that names a folder, before anything runs.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            throw AddressProblem("--metrics-file '\(path)' is a folder; give a file path such as /var/lib/node_exporter/migscope.prom")
        }
        let folder = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw AddressProblem("--metrics-file '\(path)': folder '\(folder)' does not exist; create it or give another path")
        }
        self.path = url.path
    }

    public func write(_ text: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try Data(text.utf8).write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw AddressProblem("cannot replace --metrics-file '\(path)': \(why)")
        }
    }
}
