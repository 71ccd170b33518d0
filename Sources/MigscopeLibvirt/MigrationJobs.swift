import Foundation
import Libvirt
import MigscopeCore

/// One migration a host's daemon is busy with, as `migscope jobs` lists it.
public struct MigrationJobListing: Codable, Sendable, Equatable {
    public enum Direction: String, Codable, Sendable {
        /// The source's job: it sends the memory.
        case outgoing
        /// The destination's paused copy that the memory arrives in (libvirt gives no figures there).
        case incoming
    }
    public var host: String
    public var domain: String
    public var uuid: String
    public var direction: Direction
    public var state: String
    public var elapsedSeconds: Double?
    public var round: UInt64?
    public var memoryRemainingBytes: UInt64?
    public var memoryTotalBytes: UInt64?
    public var rateBytesPerSecond: UInt64?
    /// The other end, from the journal of the migscope that started it (nil: not known here).
    public var peer: String?
    public var started: Date?
    /// The pid of the migscope watching it, when one still runs.
    public var migscopePID: Int32?
    /// Who watches it, in words: "migscope pid N", "nobody (migscope pid N is gone)", ...
    public var watcher: String

    public var attached: Bool { migscopePID != nil }
}

/// Migration jobs on libvirt hosts: what runs, with or without a migscope watching it, and how to
/// stop one or clear what an interrupted one left. Every answer comes from the daemons and the
/// journal (LibvirtJournal); nothing is guessed.
public enum MigrationJobs {
    /// The migration jobs on `hosts`, outgoing and incoming.
    public static func list(on hosts: [String], journal: LibvirtJournal = LibvirtJournal(), connectTimeout: Double = 20) async throws -> [MigrationJobListing] {
        var listings: [MigrationJobListing] = []
        let entries = journal.entries()
        for host in hosts {
            let conn = try await open(host, timeout: connectTimeout)
            let domains: [Domain]
            do { domains = try conn.domains(.active) } catch {
                throw MigrationError(.unreachable, "cannot list the domains on \(host): \(error.message)")
            }
            for d in domains {
                guard let listing = job(of: d, on: host, entries: entries) else { continue }
                listings.append(listing)
            }
        }
        return listings
    }

    static func job(of d: Domain, on host: String, entries: [LibvirtJournal.Entry]) -> MigrationJobListing? {
        let uuid = d.uuid
        let entry = entries.last { $0.uuid == uuid }
        let (watcher, pid) = watcherWords(entry)
        if let stats = try? d.jobStats(), stats.isRunning, stats.jobOperation == .migrationOut {
            let elapsed = stats.timeElapsed.map { Double($0) / 1000 }
            return MigrationJobListing(
                host: host, domain: d.name, uuid: uuid, direction: .outgoing, state: stateWords(d), elapsedSeconds: elapsed,
                round: stats.memoryIteration, memoryRemainingBytes: stats.memoryRemaining, memoryTotalBytes: stats.memoryTotal,
                rateBytesPerSecond: stats.memoryBps, peer: entry?.destination,
                started: entry?.started ?? elapsed.map { Date().addingTimeInterval(-$0) }, migscopePID: pid, watcher: watcher)
        }
        if isIncomingCopy(d) {
            return MigrationJobListing(
                host: host, domain: d.name, uuid: uuid, direction: .incoming, state: stateWords(d), peer: entry?.source,
                started: entry?.started, migscopePID: pid, watcher: watcher)
        }
        return nil
    }

    /// A copy paused by a migration without a job of its own: the one a migration's memory arrives
    /// in (libvirt says "starting up" at first, then "migrating"), or a source left paused by one.
    /// Asked after the outgoing job, which a source paused for its final copy has.
    static func isIncomingCopy(_ d: Domain) -> Bool {
        guard let s = try? d.state() else { return false }
        return pausedByMigration(s.state, reason: s.reason)
    }

    static func pausedByMigration(_ state: Domain.State, reason: Int32) -> Bool {
        guard state == .paused else { return false }
        return [.startingUp, .migration].contains(Domain.PausedReason(rawValue: reason))
    }

    static func stateWords(_ d: Domain) -> String {
        guard let s = try? d.state() else { return "unknown" }
        guard s.state == .paused else { return s.state.description }
        switch Domain.PausedReason(rawValue: s.reason) {
        case .startingUp: return "paused (starting up)"
        case .migration: return "paused (migrating)"
        case .postcopy: return "paused (post-copy)"
        default: return "paused"
        }
    }

    static func watcherWords(_ entry: LibvirtJournal.Entry?) -> (String, Int32?) {
        guard let entry else { return ("nobody (not started by a migscope on this machine)", nil) }
        if LibvirtJournal.writerAlive(entry) { return ("migscope pid \(entry.pid)", entry.pid) }
        return ("nobody (migscope pid \(entry.pid), which started it, is gone)", nil)
    }

    /// Why a new migration of `domain` from `source` may not start: one already runs there.
    static func inProgress(_ domain: Domain, source: String, journal: LibvirtJournal = LibvirtJournal()) -> String? {
        guard let stats = try? domain.jobStats(), stats.isRunning, stats.jobOperation == .migrationOut else { return nil }
        let entry = journal.entry(uuid: domain.uuid)
        let (watcher, pid) = watcherWords(entry)
        let elapsed = stats.timeElapsed.map { Format.seconds(Double($0) / 1000) + " ago" } ?? "earlier"
        let to = entry.map { " to \($0.destination)" } ?? ""
        let who = pid != nil ? watcher : "no migscope attached"
        return "a migration of '\(domain.name)'\(to) is already in progress (started \(elapsed), \(who)); see 'migscope jobs --on \(source)', stop it with 'migscope abort \(domain.name) --on \(source)'"
    }

    /// What `abort` did and where the domain runs afterwards.
    public struct AbortOutcome: Codable, Sendable, Equatable {
        public var domain: String
        public var host: String
        /// The other end of the job, if the journal knew it.
        public var peer: String?
        /// Where the domain runs now, in words, as the daemons answered.
        public var location: String
        public var runsOn: [String]
    }

    /// Aborts `domain`'s outgoing migration on `host` (virDomainAbortJob) and waits for its job to
    /// end; says where the domain runs then.
    public static func abort(_ name: String, on host: String, journal: LibvirtJournal = LibvirtJournal(), connectTimeout: Double = 20) async throws -> AbortOutcome {
        let conn = try await open(host, timeout: connectTimeout)
        let d = try lookUp(name, on: conn, host: host)
        guard let stats = try? d.jobStats(), stats.isRunning else {
            throw MigrationError(.notMigratable, "'\(d.name)' has no job running on \(host); 'migscope jobs --on \(host)' lists what runs")
        }
        guard stats.jobOperation == .migrationOut else {
            throw MigrationError(.notMigratable, "the job of '\(d.name)' on \(host) is not an outgoing migration; abort a migration on its source")
        }
        do { try d.abortJob() } catch {
            throw MigrationError(.failed, "cannot abort the migration of '\(d.name)' on \(host): \(error.message)")
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, let s = try? d.jobStats(), s.isRunning {
            try? await Task.sleep(for: .milliseconds(200))
        }
        let uuid = d.uuid
        let entry = journal.entry(uuid: uuid)
        if let entry, !LibvirtJournal.writerAlive(entry) { journal.remove(uuid: uuid) }
        // The destination cleans its incoming copy up as the job ends: give it a moment.
        try? await Task.sleep(for: .milliseconds(500))
        var hosts = [host]
        if let peer = entry?.destination, peer != host { hosts.append(peer) }
        let runsOn = await runningHosts(uuid: uuid, on: hosts, timeout: connectTimeout)
        let location: String
        switch runsOn.count {
        case 0: location = "runs on none of \(hosts.joined(separator: ", "))"
        case 1: location = "runs on \(runsOn[0])" + (hosts.count == 1 ? " (the destination was not known here: check it with 'migscope jobs --on URI')" : "")
        default: location = "runs on \(runsOn.joined(separator: " and ")): stop one of them"
        }
        return AbortOutcome(domain: d.name, host: host, peer: entry?.destination, location: location, runsOn: runsOn)
    }

    /// The hosts among `hosts` on which the domain with `uuid` is active and running.
    static func runningHosts(uuid: String, on hosts: [String], timeout: Double) async -> [String] {
        var running: [String] = []
        for h in hosts {
            guard let c = try? await Connection.open(uri: h, timeout: timeout),
                  let d = try? c.domain(uuid: uuid), d.isActive, (try? d.state().state) == .running else { continue }
            running.append(h)
        }
        return running
    }

    static func lookUp(_ name: String, on conn: Connection, host: String) throws -> Domain {
        do { return try conn.domain(nameOrUUID: name) } catch {
            if error.isNoDomain { throw MigrationError(.noSuchDomain, "no domain '\(name)' on \(host); 'migscope domains --on \(host)' lists the domains there") }
            throw MigrationError(.failed, "cannot look up '\(name)' on \(host): \(error.message)")
        }
    }

    static func open(_ uri: String, timeout: Double) async throws -> Connection {
        try await LibvirtBackend.connect(uri, timeout: timeout, naming: uri)
    }
}
