import Foundation
import MigscopeCore
import MigscopeProbes

/// A small record of each libvirt migration a migscope on this machine drives, under
/// /run/migscope/libvirt: how `migscope jobs` tells a job somebody watches from one nobody does.
///
/// With peer-to-peer the source daemon drives the job, so it outlives a migscope that is killed;
/// every safeguard migscope applies (time limits, the pacer, stop policies) dies with it. The entry
/// names the process, so the job it leaves is known as unattended, not guessed.
public struct LibvirtJournal: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var domain: String
        public var uuid: String
        public var source: String
        public var destination: String
        public var peerToPeer: Bool
        public var live: Bool
        public var pid: Int32
        public var started: Date
    }

    public let folder: String

    /// `MIGSCOPE_LIBVIRT_JOURNAL` overrides the folder; without root, it is under the temporary folder.
    public init(folder: String? = nil) {
        let environment = ProcessInfo.processInfo.environment
        self.folder = folder ?? environment["MIGSCOPE_LIBVIRT_JOURNAL"]
            ?? (getuid() == 0 ? "/run/migscope/libvirt" : NSTemporaryDirectory() + "/migscope-\(getuid())/libvirt")
    }

    func path(_ uuid: String) -> String {
        // A UUID from a daemon, but a journal is no place to trust that.
        folder + "/" + String(uuid.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }) + ".json"
    }

    /// Writes `e`; a journal that cannot be written costs only what `jobs` can say, not the migration.
    @discardableResult
    public func write(_ e: Entry) -> Bool {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try JSONEncoder().encode(e).write(to: URL(fileURLWithPath: path(e.uuid)), options: .atomic)
            return true
        } catch {
            return false
        }
    }

    public func remove(uuid: String) { try? FileManager.default.removeItem(atPath: path(uuid)) }

    public func entry(uuid: String) -> Entry? {
        guard let data = FileManager.default.contents(atPath: path(uuid)) else { return nil }
        return try? JSONDecoder().decode(Entry.self, from: data)
    }

    public func entries() -> [Entry] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.compactMap {
            guard let data = FileManager.default.contents(atPath: folder + "/" + $0) else { return nil }
            return try? JSONDecoder().decode(Entry.self, from: data)
        }.sorted { $0.started < $1.started }
    }

    /// Is the migscope that wrote `e` still running?
    public static func writerAlive(_ e: Entry) -> Bool { MigscopeProcess.isAlive(e.pid) }
}
