import Foundation
import Libvirt
import MigscopeCore

/// Migrations through libvirt: any hypervisor libvirt drives (QEMU/KVM first).
public struct LibvirtBackend: MigrationBackend {
    /// libvirt offers every feature a request has; a hypervisor that lacks one says so when asked.
    public static let capabilities = BackendCapabilities(name: "libvirt")
    public var capabilities: BackendCapabilities { Self.capabilities }
    /// How long opening a host's connection may take before it counts as unreachable.
    public var connectTimeout: Double

    public init(connectTimeout: Double = 20) {
        self.connectTimeout = connectTimeout
    }

    public func prepare(_ request: MigrationRequest) async throws -> any MigrationSession {
        if let problem = request.problems().first {
            throw MigrationError(.notMigratable, problem.message)
        }
        let source = try await open(request.source, role: .source)
        let domain: Domain
        do {
            domain = try source.domain(nameOrUUID: request.domain)
        } catch {
            if error.isNoDomain {
                throw MigrationError(.noSuchDomain, "no domain '\(request.domain)' on \(request.source); 'migscope domains --on \(request.source)' lists the domains there")
            }
            throw MigrationError(.failed, "cannot look up domain '\(request.domain)' on \(request.source): \(error.message)")
        }
        let state: Domain.State
        do { state = try domain.state().state } catch {
            throw MigrationError(.failed, "cannot read the state of '\(domain.name)' on \(request.source): \(error.message)")
        }
        guard state == .running || state == .paused || state == .blocked else {
            throw MigrationError(.notMigratable, "domain '\(domain.name)' is \(state) on \(request.source); start it before migrating it")
        }
        // A migration already under way (perhaps left by a migscope that was killed) is said to be
        // one, not mistaken for a domain that "already runs" on the destination.
        if let why = MigrationJobs.inProgress(domain, source: request.source) {
            throw MigrationError(.notMigratable, why)
        }
        // The destination: required when this client manages the migration; for peer-to-peer it is
        // the source daemon that connects, so here it only serves to watch and locate the domain.
        let destination: Connection?
        switch request.transport {
        case .clientManaged:
            destination = try await open(request.destination, role: .destination)
        case .peerToPeer:
            destination = try? await open(request.destination, role: .destination)
        }
        if let destination, HostIdentity.same(source, destination) {
            throw MigrationError(.notMigratable, "\(request.destination) is the same host as \(request.source); give the URI of another host")
        }
        let arrivingName = request.destinationName ?? domain.name
        if let destination, let existing = try? destination.domain(named: arrivingName), existing.isActive {
            throw MigrationError(.notMigratable, "a domain named '\(arrivingName)' already runs on \(request.destination); choose --destination-name or stop it there")
        }
        if let ms = request.maxDowntimeMs {
            do { try domain.setMigrationMaxDowntime(milliseconds: ms) } catch {
                throw MigrationError(.failed, "cannot set max downtime \(ms) ms on '\(domain.name)': \(error.message)")
            }
        }
        let facts = Self.facts(of: domain)
        return LibvirtMigrationSession(
            request: request, source: source, destination: destination, domain: domain, facts: facts)
    }

    /// A session that watches the outgoing migration already running for `request.domain` on
    /// `request.source` to its end, instead of starting one (`migscope attach`). The destination,
    /// when known (the request's, else the journal's), is where the domain is looked for at the end.
    public func attach(_ request: MigrationRequest) async throws -> any MigrationSession {
        let source = try await open(request.source, role: .source)
        let domain = try MigrationJobs.lookUp(request.domain, on: source, host: request.source)
        guard let stats = try? domain.jobStats(), stats.isRunning, stats.jobOperation == .migrationOut else {
            throw MigrationError(.notMigratable, "no migration of '\(domain.name)' runs on \(request.source); 'migscope jobs --on \(request.source)' lists what runs")
        }
        var request = request
        if request.destination.isEmpty, let entry = LibvirtJournal().entry(uuid: domain.uuid) { request.destination = entry.destination }
        let destination = request.destination.isEmpty ? nil : try? await open(request.destination, role: .destination)
        let facts = Self.facts(of: domain)
        return LibvirtMigrationSession(
            request: request, source: source, destination: destination, domain: domain, facts: facts, attached: true)
    }

    static func facts(of domain: Domain) -> DomainFacts {
        let info = try? domain.info()
        return DomainFacts(
            name: domain.name, uuid: domain.uuid, memoryBytes: info.map { $0.maxMemoryKiB * 1024 },
            virtualCPUs: info.map { Int($0.virtualCPUs) }, disks: (try? domain.diskTargets()) ?? [],
            virtualizationType: try? domain.virtualizationType())
    }

    private func open(_ uri: String, role: HostRole) async throws -> Connection {
        try await Self.connect(uri, timeout: connectTimeout, naming: "\(role.rawValue) \(uri)")
    }

    /// Opens a host's connection within `timeout`, or fails as unreachable, naming the host as given.
    static func connect(_ uri: String, timeout: Double, naming host: String) async throws -> Connection {
        do {
            return try await Connection.open(uri: uri, timeout: timeout)
        } catch {
            throw MigrationError(.unreachable, "cannot connect to \(host): \((error as? LibvirtError)?.message ?? "\(error)")")
        }
    }
}

/// Tells whether two connections reach the same host, by libvirt's host UUID where it answers.
enum HostIdentity {
    static func same(_ a: Connection, _ b: Connection) -> Bool {
        guard let ua = a.hostUUID, let ub = b.hostUUID else { return false }
        return ua == ub
    }
}
