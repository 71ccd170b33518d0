import Foundation
import Libxl
import MigscopeCore

/// Migrations of Xen domains through libxl, from the dom0 migscope runs in, with every pre-copy
/// round from libxenguest's progress reports. The destination is another host's receiver
/// (`migscope xen-receive`), or this host (a localhost migration, as `xl migrate DOM localhost`).
public struct LibxlBackend: MigrationBackend {
    /// What libxl can and cannot do, written once: the command line, plans and this backend ask it.
    public static let capabilities = BackendCapabilities(name: "libxl", unsupported: [
        .streamCap: "libxl has no cap on the migration stream; shape the link instead (tc, or the lab's 'lab set --link-rate')",
        .maxDowntime: "libxenguest decides when to stop pre-copy (after 5 rounds, or under 50 dirty pages); leave it out with backend libxl",
        .definitions: "libxl keeps no domain definitions (xl's configuration files stay where they are); leave them out with backend libxl",
        .pauseAfterRounds: "libxenguest ends pre-copy after 5 rounds by itself, and libxl cannot end it sooner; leave it out with backend libxl",
        .timeout: "libxl cannot force the end of pre-copy; it stops by itself after 5 rounds (--abort-after bounds the time)",
        .peerToPeer: "a libvirt option; with backend libxl, the destination says where the stream goes",
        .migrateURI: "a libvirt option; with backend libxl, the destination says where the stream goes",
        .destinationName: "libxl migrates a domain under its own name; leave it out with backend libxl",
        .autoConverge: "libxl cannot throttle the guest's CPUs during a migration; leave it out with backend libxl",
        .postcopy: "libxl migrates by pre-copy only (Xen has no post-copy); leave it out with backend libxl",
        .parallel: "libxl sends memory over one stream; leave it out with backend libxl",
        .compression: "libxl sends pages uncompressed; leave it out with backend libxl",
        .stopPolicy: "libxenguest applies its own stop rule (5 rounds, or under 50 dirty pages) and libxl cannot end pre-copy sooner; leave it out with backend libxl",
        .downtimeSteps: "libxenguest decides when to stop pre-copy and takes no max downtime; leave it out with backend libxl",
        .ioFloor: "libxl has no speed cap to pace the stream with; shape the link instead (tc, or the lab's 'lab set --storage-priority')",
    ])
    public var capabilities: BackendCapabilities { Self.capabilities }
    /// Where every progress callback is written verbatim ("t context doing percent done total"), if anywhere.
    public var progressLogPath: String?
    /// This program, started as the receiver for localhost migrations.
    public var executable: String
    /// The key file both ends prove over TCP (XenAuthentication); ssh and localhost need none.
    public var keyPath: String
    public var journal: XenJournal

    public init(progressLogPath: String? = nil, executable: String = LibxlBackend.selfPath, keyPath: String = XenPeerKey.defaultPath,
                journal: XenJournal = XenJournal()) {
        self.progressLogPath = progressLogPath
        self.executable = executable
        self.keyPath = keyPath
        self.journal = journal
    }

    /// This program's own file, resolved the way the kernel sees it.
    public static var selfPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Where xenconsoled keeps a guest's console when run with --log=guest.
    public static let consoleLogFolder = "/var/log/xen/console"

    /// The console logs that carry `domain`'s own lines through a migration to `destination`:
    /// `guest-NAME.log`, and on a localhost migration also `guest-NAME--incoming.log` (xenconsoled
    /// names a log after the domain when it appears). `given` replaces the first.
    public static func consoleLogs(domain: String, destination: String, given: String?) -> [String] {
        let own = given ?? "\(consoleLogFolder)/guest-\(domain).log"
        guard given != nil || FileManager.default.fileExists(atPath: own) else { return [] }
        var paths = [own]
        if (try? XenDestination(parsing: destination)) == .localhost {
            let folder = (own as NSString).deletingLastPathComponent
            paths.append("\(folder)/guest-\(domain)\(XenMigrationProtocol.incomingSuffix).log")
        }
        return paths
    }

    /// The request's source, for the libxl backend: the dom0 migscope runs in.
    public static let thisHost = "libxl://localhost"

    public func prepare(_ request: MigrationRequest) async throws -> any MigrationSession {
        if let problem = capabilities.problems(request).first { throw MigrationError(.unsupported, problem.message) }
        let destination = try XenDestination(parsing: request.destination)
        if let blocker = journal.blocker(for: request.domain) { throw MigrationError(.failed, blocker) }
        var key: XenPeerKey? = nil
        if case .tcp = destination { key = try XenPeerKey.load(from: keyPath) }
        let relay = ProgressRelay()
        let logger = ToolLogger(sink: { relay.forward($0) })
        let context: Context
        do { context = try Context(logger: logger) } catch {
            throw MigrationError(.unreachable, "\(error)")
        }
        let toolstack = LibxlToolstack(context: context)
        let id: DomainID
        do { id = try context.domainID(named: request.domain) } catch {
            let names = context.domains().filter { $0.id != .controlDomain }.compactMap(\.name)
            throw MigrationError(.noSuchDomain, "no domain '\(request.domain)' on this Xen host; running: \(names.isEmpty ? "none" : names.joined(separator: ", "))")
        }
        guard let info = context.domainInfo(id), !info.shutdown, !info.dying else {
            throw MigrationError(.notMigratable, "domain '\(request.domain)' is not running (shut down or dying); start it first")
        }
        let config = (try? context.configurationJSON(of: id)) ?? "{}"
        let facts = Self.facts(name: request.domain, info: info, configurationJSON: config)
        var progressLog: FileHandle? = nil
        if let path = progressLogPath {
            guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                throw MigrationError(.failed, "--progress-log: cannot write \(path); give a file in a writable folder")
            }
            progressLog = h
        }
        let session = LibxlMigrationSession(
            request: request, facts: facts, toolstack: toolstack, sourceID: id, destination: destination,
            executable: executable, progressLog: progressLog, key: key, journal: journal)
        relay.target = session
        return session
    }

    /// Facts from libxl's view of the domain and its configuration JSON (uuid, disks).
    static func facts(name: String, info: DomainInfo, configurationJSON: String) -> DomainFacts {
        let object = (try? JSONSerialization.jsonObject(with: Data(configurationJSON.utf8))) as? [String: Any]
        let uuid = ((object?["c_info"] as? [String: Any])?["uuid"] as? String) ?? ""
        let disks = (object?["disks"] as? [[String: Any]] ?? []).compactMap { $0["pdev_path"] as? String ?? $0["vdev"] as? String }
        return DomainFacts(name: name, uuid: uuid, memoryBytes: info.maxMemoryKiB * 1024, virtualCPUs: Int(info.onlineVCPUs), disks: disks)
    }
}
