import Foundation
import Libvirt
import MigscopeCore

/// What an interrupted libvirt migration can leave, and what `migscope recover` does about each:
/// only a copy that is provably a leftover is removed; anything else is reported.
public enum MigrationLeftovers {
    public struct Finding: Codable, Sendable, Equatable {
        public enum Action: String, Codable, Sendable {
            /// A paused incoming copy was destroyed: the domain runs on its source, which has no job.
            case destroyedIncomingCopy = "destroyed-incoming-copy"
            /// The domain runs once and nothing is left: nothing to do.
            case nothingToDo = "nothing-to-do"
            /// Left as it is, with the reason (a job still runs, no copy runs, two run, a host did not answer).
            case reported
        }
        public var domain: String
        public var uuid: String
        public var action: Action
        /// What was found and done, in words.
        public var detail: String
    }

    /// One host's copy of a domain, as that daemon answered.
    struct Copy: Equatable {
        var host: String
        var state: Domain.State
        var reason: Int32
        var jobRunning: Bool
        /// Paused by a migration (arriving, or a source left paused) with no job: with another copy
        /// running, never the guest's latest state.
        var isIncoming: Bool { !jobRunning && MigrationJobs.pausedByMigration(state, reason: reason) }
    }

    /// What the copies of one domain call for.
    enum Verdict: Equatable {
        /// Destroy the paused copies on `hosts`: the domain runs on `runsOn`, no job connects them.
        case destroy(hosts: [String], runsOn: String)
        case nothingToDo(runsOn: String)
        case report(String)
    }

    /// Examines every domain named `name` (or, without it, every domain with a copy paused by a
    /// migration, more than one copy, or a journal entry whose migscope is gone) across `hosts`, and
    /// removes the provable leftovers.
    public static func recover(_ name: String?, on hosts: [String], journal: LibvirtJournal = LibvirtJournal(), connectTimeout: Double = 20) async throws -> [Finding] {
        var connections: [(String, Connection)] = []
        for h in hosts { connections.append((h, try await MigrationJobs.open(h, timeout: connectTimeout))) }
        let entries = journal.entries()
        let orphaned = Set(entries.filter { !LibvirtJournal.writerAlive($0) }.map(\.uuid))
        let watched = Dictionary(entries.filter(LibvirtJournal.writerAlive).map { ($0.uuid, $0.pid) }, uniquingKeysWith: { a, _ in a })
        // Every candidate domain by UUID: its handle on each host that has a copy.
        var handles: [String: [(host: String, domain: Domain)]] = [:]
        var names: [String: String] = [:]
        for (host, conn) in connections {
            let domains: [Domain]
            do { domains = try conn.domains(.active) } catch {
                throw MigrationError(.unreachable, "cannot list the domains on \(host): \(error.message)")
            }
            for d in domains {
                if let name, d.name != name, d.uuid != name { continue }
                handles[d.uuid, default: []].append((host, d))
                names[d.uuid] = d.name
            }
        }
        if let name, handles.isEmpty {
            throw MigrationError(.noSuchDomain, "no domain '\(name)' runs on \(hosts.joined(separator: ", "))")
        }
        var findings: [Finding] = []
        for (uuid, found) in handles.sorted(by: { (names[$0.key] ?? "") < (names[$1.key] ?? "") }) {
            let domainName = names[uuid] ?? uuid
            let copies = look(at: found)
            let interesting = name != nil || orphaned.contains(uuid) || copies.count > 1 || copies.contains(where: \.isIncoming)
            guard interesting else { continue }
            if let pid = watched[uuid] {
                findings.append(Finding(domain: domainName, uuid: uuid, action: .reported, detail: "migscope pid \(pid) is migrating it; nothing touched"))
                continue
            }
            var verdict = decide(copies)
            if case .destroy = verdict {
                // Decided on one look; done only after a second look, two seconds on, sees the same
                // (a client-managed migration starting elsewhere has a job on its source by then).
                try? await Task.sleep(for: .seconds(2))
                verdict = decide(look(at: found))
            }
            let finding: Finding
            switch verdict {
            case .destroy(let hosts, let runsOn):
                var failure: String? = nil
                for (host, d) in found where hosts.contains(host) {
                    do { try d.destroy() } catch { failure = "the paused copy on \(host) could not be destroyed: \(error.message)" }
                }
                finding = failure.map { Finding(domain: domainName, uuid: uuid, action: .reported, detail: "runs on \(runsOn); \($0)") }
                    ?? Finding(domain: domainName, uuid: uuid, action: .destroyedIncomingCopy,
                               detail: "runs on \(runsOn); destroyed the copy an interrupted migration left paused on \(hosts.joined(separator: ", "))")
            case .nothingToDo(let runsOn):
                finding = Finding(domain: domainName, uuid: uuid, action: .nothingToDo, detail: "runs on \(runsOn) only; nothing is left of a migration")
            case .report(let why):
                finding = Finding(domain: domainName, uuid: uuid, action: .reported, detail: why)
            }
            if finding.action != .reported { journal.remove(uuid: uuid) }
            findings.append(finding)
        }
        return findings
    }

    /// Each copy's state and job, as its daemon answers now.
    static func look(at found: [(host: String, domain: Domain)]) -> [Copy] {
        found.compactMap { (host: String, d: Domain) -> Copy? in
            guard let s = try? d.state() else { return nil }
            // A daemon that cannot say whether a job runs is taken to have one: nothing is destroyed then.
            let job: Bool
            do { job = try d.jobStats().isRunning } catch {
                // A destination's daemon gives no job figures for an arriving copy ("available only
                // on the source host"): that is no job of its own.
                job = !((error as? LibvirtError)?.message.contains("only on the source") ?? false)
            }
            return Copy(host: host, state: s.state, reason: s.reason, jobRunning: job)
        }
    }

    /// What to do with a domain's copies. Pure, so that every case is tested.
    static func decide(_ copies: [Copy]) -> Verdict {
        if let busy = copies.first(where: \.jobRunning) {
            return .report("a job still runs on \(busy.host): 'migscope jobs --on \(busy.host)' shows it, 'migscope abort DOMAIN --on \(busy.host)' stops it")
        }
        let running = copies.filter { $0.state == .running }
        let paused = copies.filter(\.isIncoming)
        let others = copies.filter { $0.state != .running && !$0.isIncoming }
        switch (running.count, paused.count) {
        case (1, 1...) where others.isEmpty:
            // One copy runs and no job connects it to the paused ones: those can never run.
            return .destroy(hosts: paused.map(\.host), runsOn: running[0].host)
        case (1, 0) where others.isEmpty:
            return .nothingToDo(runsOn: running[0].host)
        case (0, _):
            let states = copies.map { "\($0.isIncoming ? "paused by a migration" : $0.state.description) on \($0.host)" }.joined(separator: ", ")
            return .report("runs nowhere (\(states)); which copy holds the guest's latest state is not known here: check before you resume or destroy one")
        case (2..., _):
            return .report("runs on \(running.map(\.host).joined(separator: " and ")): two copies run; stop the one that should not")
        default:
            return .report("left as it is: " + copies.map { "\($0.state.description) on \($0.host)" }.joined(separator: ", "))
        }
    }
}
