import Foundation
import MigscopeCore
import Libxl

/// The real toolstack: libxl on this dom0.
public final class LibxlToolstack: XenToolstack, @unchecked Sendable {
    public let context: Context

    public init(context: Context) { self.context = context }

    public func domainID(named name: String) throws -> DomainID { try context.domainID(named: name) }
    public func domainExists(_ id: DomainID) -> Bool { context.domainInfo(id) != nil }
    public func isRunning(_ id: DomainID) -> Bool {
        guard let info = context.domainInfo(id) else { return false }
        return !info.paused && !info.shutdown && !info.dying
    }
    public func configurationJSON(of id: DomainID) throws -> String { try context.configurationJSON(of: id) }
    public func rename(_ id: DomainID, to name: String) throws { try context.rename(id, to: name) }
    public func suspend(_ id: DomainID, to fd: Int32, live: Bool) throws { try context.suspend(id, to: fd, live: live) }
    public func resume(_ id: DomainID) throws { try context.resume(id) }
    public func destroy(_ id: DomainID) throws { try context.destroy(id) }
    public func restore(configurationJSON: String, name: String, from fd: Int32) throws -> DomainID {
        try context.restore(configurationJSON: configurationJSON, name: name, from: fd)
    }
    public func unpause(_ id: DomainID) throws { try context.unpause(id) }
}

/// A domain's disk counters as dom0's block back end keeps them:
/// /sys/bus/xen-backend/devices/vbd-DOMID-DEVID/statistics/{rd,wr}_{sect,req}.
public enum XenBlockCounters {
    public struct Totals: Sendable, Equatable {
        public var readBytes: UInt64 = 0
        public var writeBytes: UInt64 = 0
        public var readOps: UInt64 = 0
        public var writeOps: UInt64 = 0
    }

    public static let root = "/sys/bus/xen-backend/devices"

    /// Sums over the domain's virtual block devices; nil when it has none (or no longer exists).
    public static func totals(domain id: DomainID, root: String = root) -> Totals? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: root) else { return nil }
        let mine = entries.filter { $0.hasPrefix("vbd-\(id)-") }
        guard !mine.isEmpty else { return nil }
        var t = Totals()
        for dev in mine {
            let dir = "\(root)/\(dev)/statistics"
            func value(_ name: String) -> UInt64 {
                (try? String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8)).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
            }
            t.readBytes += value("rd_sect") * 512
            t.writeBytes += value("wr_sect") * 512
            t.readOps += value("rd_req")
            t.writeOps += value("wr_req")
        }
        return t
    }
}

/// The domains of this Xen host, as core listings (`migscope domains --on xen`).
public enum LibxlInventory {
    /// Throws a `MigrationError` (not a Xen dom0, or no such domain).
    public static func domains(named name: String? = nil) throws -> [DomainListing] {
        let context: Context
        do { context = try Context() } catch { throw MigrationError(.unreachable, error.description) }
        let all = context.domains().map { d in
            DomainListing(name: d.name ?? "(id \(d.id))", uuid: "", id: Int(d.id.rawValue), state: d.state,
                          memoryBytes: d.currentMemoryKiB * 1024, virtualCPUs: Int(d.onlineVCPUs), persistent: false)
        }
        guard let name else { return all }
        guard let one = all.first(where: { $0.name == name || $0.id.map(String.init) == name }) else {
            throw MigrationError(.noSuchDomain, "no domain '\(name)' on this Xen host; running: \(all.map(\.name).joined(separator: ", "))")
        }
        return [one]
    }
}
