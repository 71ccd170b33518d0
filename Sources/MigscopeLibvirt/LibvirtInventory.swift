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

    /// Measures `domain`'s dirty rate in place over each window (seconds, 1 to 60), one after the
    /// other, as QEMU's calc-dirty-rate does it; each window waits for its result (or fails after
    /// its length plus 15 s).
    public static func measureDirtyRate(_ domain: String, on uri: String, windows: [Int], method: DirtyRateMethod = .pageSampling,
                                        timeout: Double = 20, progress: (Int, Int) -> Void = { _, _ in }) async throws -> DirtyRateMeasurement {
        let conn: Connection
        do { conn = try await Connection.open(uri: uri, timeout: timeout) } catch {
            throw MigrationError(.unreachable, "cannot connect to \(uri): \((error as? LibvirtError)?.message ?? "\(error)")")
        }
        let d = try MigrationJobs.lookUp(domain, on: conn, host: uri)
        // Seen here (QEMU 7.2, 2026-12-03): calc-dirty-rate in dirty-bitmap mode crashed a TCG guest
        // at once ("shutting down, reason=crashed"); dirty-ring is KVM's own. Under TCG only
        // page sampling is asked for, so measuring never costs the guest.
        if method != .pageSampling, (try? d.virtualizationType()) == "qemu" {
            throw MigrationError(.unsupported, "--method \(method.rawValue) is refused for '\(domain)', which runs under TCG: QEMU 7.2 crashed such a guest measuring that way here; use page-sampling (the default)")
        }
        var measured: [DirtyRateMeasurement.Window] = []
        // The guest's disk reads over the same time, from the host's block counters.
        let readsBefore = (try? d.blockStatsNoWait()).flatMap { $0 }.map { (ContinuousClock.now, $0.readBytes) }
        for (i, seconds) in windows.enumerated() {
            progress(i + 1, seconds)
            let before = (try? d.dirtyRate())?.startTime
            do { try d.startDirtyRateCalculation(seconds: Int32(seconds), mode: DirtyRate.Mode(rawValue: method.rawValue) ?? .pageSampling) } catch {
                throw MigrationError(.failed, "cannot measure the dirty rate of '\(domain)' on \(uri): \(error.message)")
            }
            let deadline = ContinuousClock.now + .seconds(seconds + 15)
            var result: DirtyRate?
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
                try Task.checkCancellation()
                let r: DirtyRate
                do { r = try d.dirtyRate() } catch { throw MigrationError(.failed, "cannot read the dirty rate of '\(domain)': \(error.message)") }
                // A measurement of this window: measured, and not the one left from before.
                if r.status == .measured, r.mebibytesPerSecond != nil, r.startTime != before || before == nil { result = r; break }
            }
            guard let result, let rate = result.mebibytesPerSecond else {
                throw MigrationError(.failed, "the dirty rate of '\(domain)' over \(seconds) s was not measured within \(seconds + 15) s")
            }
            measured.append(.init(seconds: Double(result.periodSeconds ?? Int64(seconds)), bytesPerSecond: Double(rate) * 1_048_576))
        }
        var reads: Double?
        if let (t0, r0) = readsBefore, let after = (try? d.blockStatsNoWait()).flatMap({ $0 }), after.readBytes >= r0 {
            let elapsed = (ContinuousClock.now - t0) / .seconds(1)
            if elapsed > 0 { reads = Double(after.readBytes - r0) / elapsed }
        }
        return DirtyRateMeasurement(domain: d.name, host: HostURI.redacted(uri), method: method.rawValue, windows: measured, readBytesPerSecond: reads)
    }

    /// The libvirt library migscope is linked with.
    public static var libraryVersion: String { Libvirt.version }

    /// What the host's daemon says of itself and its hypervisor.
    public static func software(on uri: String, timeout: Double = 20) async throws -> HostSoftware {
        let conn = try await connect(uri, timeout: timeout)
        return HostSoftware(uri: HostURI.redacted(uri), hostname: conn.hostname, driver: conn.driverType,
                            hypervisorVersion: conn.hypervisorVersion, libvirtVersion: conn.daemonVersion)
    }

    /// The memory a host has free for guests, in bytes.
    public static func freeMemory(on uri: String, timeout: Double = 20) async throws -> UInt64 {
        let conn = try await connect(uri, timeout: timeout)
        do { return try conn.freeMemoryBytes() } catch {
            throw MigrationError(.unreachable, "cannot read the free memory of \(HostURI.redacted(uri)): \(error.message)")
        }
    }

    /// The memory a running guest says it leaves unused (its balloon driver's statistics), in
    /// bytes; nil when it has no balloon driver that reports them.
    public static func unusedMemory(_ domain: String, on uri: String, timeout: Double = 20) async throws -> UInt64? {
        let conn = try await connect(uri, timeout: timeout)
        let d = try MigrationJobs.lookUp(domain, on: conn, host: uri)
        return (try? d.memoryStats())?.unusedKiB.map { $0 * 1024 }
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
