import Foundation
import Libvirt
import MigscopeCore

/// Read-only questions about a libvirt host: which domains it has and in what state.
public enum LibvirtInventory {
    public static func domains(on uri: String, timeout: Double = 20) async throws -> [DomainListing] {
        let conn = try await connect(uri, timeout: timeout)
        do {
            return try conn.domains().map(listing).sorted { $0.name < $1.name }
        } catch {
            throw MigrationError(.failed, "cannot list domains on \(uri): \(error.message)")
        }
    }

    public static func domain(_ key: String, on uri: String, timeout: Double = 20) async throws -> DomainListing {
        let conn = try await connect(uri, timeout: timeout)
        do {
            return try listing(conn.domain(nameOrUUID: key))
        } catch where error.isNoDomain {
            throw MigrationError(.noSuchDomain, "no domain '\(key)' on \(uri); 'migscope domains --on \(uri)' lists the domains there")
        } catch {
            throw MigrationError(.failed, "cannot look up '\(key)' on \(uri): \(error.message)")
        }
    }

    /// The libvirt library migscope is linked with.
    public static var libraryVersion: String { Libvirt.version }

    /// What the host's daemon says of itself and its hypervisor.
    public static func software(on uri: String, timeout: Double = 20) async throws -> HostSoftware {
        let conn = try await connect(uri, timeout: timeout)
        return HostSoftware(uri: HostURI.redacted(uri), hostname: conn.hostname, driver: conn.driverType,
                            hypervisorVersion: conn.hypervisorVersion, libvirtVersion: conn.daemonVersion)
    }

    private static func connect(_ uri: String, timeout: Double) async throws -> Connection {
        do { return try await Connection.open(uri: uri, readOnly: true, timeout: timeout) } catch {
            throw MigrationError(.unreachable, "cannot connect to \(uri): \((error as? LibvirtError)?.message ?? "\(error)")")
        }
    }

    private static func listing(_ d: Domain) throws(LibvirtError) -> DomainListing {
        let info = try d.info()
        return DomainListing(
            name: d.name, uuid: d.uuid, id: d.id.map(Int.init), state: info.state.description,
            memoryBytes: info.maxMemoryKiB * 1024, virtualCPUs: Int(info.virtualCPUs),
            persistent: d.isPersistent)
    }
}
