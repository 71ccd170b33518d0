import Foundation
import Glibc
import Libxl
import MigscopeCore
import MigscopeProbes

/// A small record of each Xen migration in flight, under /run/migscope/xen: what a migscope that
/// dies (SIGKILL, OOM, a crash) leaves for `migscope xen-recover` to put right, and what keeps a
/// second migration of the same domain from starting on top of an unresolved one.
public struct XenJournal: Sendable {
    public enum Stage: String, Codable, Sendable, Comparable {
        /// Talking to the receiver; the source is untouched.
        case handshake
        /// The source is renamed NAME--migratedaway and is being (or was) suspended into the stream.
        case renamed
        /// "go" was sent: the destination may run the domain now.
        case goSent = "go-sent"

        static let order: [Stage] = [.handshake, .renamed, .goSent]
        public static func < (a: Stage, b: Stage) -> Bool { order.firstIndex(of: a)! < order.firstIndex(of: b)! }
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var domain: String
        public var sourceID: DomainID
        public var destination: String
        public var pid: Int32
        public var stage: Stage
        public var started: Date
    }

    public let folder: String
    public init(folder: String = ProcessInfo.processInfo.environment["MIGSCOPE_XEN_JOURNAL"] ?? "/run/migscope/xen") { self.folder = folder }

    func path(_ domain: String) -> String {
        // A domain name is libxl's (no '/'), but a journal is no place to trust that.
        folder + "/" + String(domain.map { $0 == "/" || $0 == "\0" ? "_" : $0 }) + ".json"
    }

    public func write(_ e: Entry) throws(MigrationError) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let data = try JSONEncoder().encode(e)
            try data.write(to: URL(fileURLWithPath: path(e.domain)), options: .atomic)
        } catch {
            throw MigrationError(.failed, "cannot write the migration journal in \(folder): \(error.localizedDescription); nothing was started")
        }
    }

    public func remove(_ domain: String) { try? FileManager.default.removeItem(atPath: path(domain)) }

    public func entry(_ domain: String) -> Entry? {
        guard let data = FileManager.default.contents(atPath: path(domain)) else { return nil }
        return try? JSONDecoder().decode(Entry.self, from: data)
    }

    public func entries() -> [Entry] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.compactMap {
            guard let data = FileManager.default.contents(atPath: folder + "/" + $0) else { return nil }
            return try? JSONDecoder().decode(Entry.self, from: data)
        }.sorted { $0.domain < $1.domain }
    }

    /// Is the migscope that wrote `e` still running? (A pid reused by another program is not it.)
    public static func writerAlive(_ e: Entry) -> Bool { MigscopeProcess.isAlive(e.pid) }

    /// Why a new migration of `domain` may not start, or nil.
    public func blocker(for domain: String) -> String? {
        guard let e = entry(domain) else { return nil }
        if Self.writerAlive(e) { return "migscope (pid \(e.pid)) is migrating '\(domain)' to \(e.destination) already" }
        return "an earlier migration of '\(domain)' to \(e.destination) was interrupted (\(e.stage.rawValue), \(e.started)); run 'migscope xen-recover \(domain)' first"
    }
}

/// What `migscope xen-recover` does with a journal entry whose migscope is gone, decided from
/// the source host's own state, never guessed.
public enum XenRecovery {
    public enum Outcome: Sendable, Equatable {
        /// The source copy was resumed (and renamed back): the domain runs here.
        case resumed(id: DomainID)
        /// Nothing to do: the domain runs here under its name.
        case runsHere(id: DomainID)
        /// No source copy is left: the migration had finished; the domain runs on the destination.
        case gone
        /// After "go": the destination may run it; a person must look there first.
        case undecided(String)
        /// The writer still runs: not ours to touch.
        case inProgress(pid: Int32)
    }

    /// Resolves `entry` against `toolstack`. `resumeAfterGo`: the operator has checked that the
    /// destination does not run the domain, so the kept source copy may run again.
    public static func resolve(_ entry: XenJournal.Entry, toolstack: any XenToolstack, resumeAfterGo: Bool) -> Result<Outcome, MigrationError> {
        if XenJournal.writerAlive(entry) { return .success(.inProgress(pid: entry.pid)) }
        let name = entry.domain, away = name + XenMigrationProtocol.migratedAwaySuffix
        // The source copy: by its id, under either name (a reused id with another name is not it).
        let byName = (try? toolstack.domainID(named: away)) ?? (try? toolstack.domainID(named: name))
        guard let id = byName, toolstack.domainExists(id) else { return .success(.gone) }
        if entry.stage == .goSent && !resumeAfterGo && !toolstack.isRunning(id) {
            return .success(.undecided("the go-ahead was sent to \(entry.destination), which may run '\(name)' now; the source copy is kept suspended here as '\(away)' (id \(id)). Check 'xl list' there: if it runs there, 'xl destroy \(away)' here; if not, 'migscope xen-recover \(name) --resume'"))
        }
        var problems: [String] = []
        var resumed = false
        if !toolstack.isRunning(id) {
            do { try toolstack.resume(id); resumed = true } catch { problems.append("resume failed: \(error)") }
        }
        if (try? toolstack.domainID(named: away)) == id {
            do { try toolstack.rename(id, to: name) } catch { problems.append("rename back failed: \(error)") }
        }
        // On a localhost migration the receiver's half-made copy is on this host too; never told
        // "go", it is paused and never ran: a leftover, safe to remove once the source runs again.
        if entry.destination == XenDestination.localhost.description, entry.stage < .goSent || resumeAfterGo,
           let incoming = try? toolstack.domainID(named: name + XenMigrationProtocol.incomingSuffix), incoming != id, !toolstack.isRunning(incoming) {
            do { try toolstack.destroy(incoming) } catch { problems.append("removing the half-made copy '\(name)\(XenMigrationProtocol.incomingSuffix)' failed: \(error)") }
        }
        if !problems.isEmpty {
            return .failure(MigrationError(.failed, "could not put '\(name)' (id \(id)) back: \(problems.joined(separator: "; ")); see 'xl list'"))
        }
        return .success(resumed ? .resumed(id: id) : .runsHere(id: id))
    }
}
