import CLibxl
import Glibc

/// A domain's id on one Xen host (changes when it migrates or restores). Stored and sent as its
/// number.
public struct DomainID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { rawValue = value }
    /// Parses the decimal form the migration protocol sends.
    public init?(_ text: some StringProtocol) {
        guard let v = UInt32(text) else { return nil }
        rawValue = v
    }
    /// dom0, the control domain: never a guest to migrate.
    public static let controlDomain = DomainID(0)
    public var description: String { "\(rawValue)" }

    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(UInt32.self) }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// What `libxl_domain_info` says of a domain.
public struct DomainInfo: Sendable, Equatable {
    public var id: DomainID
    public var name: String?
    public var running: Bool
    public var blocked: Bool
    public var paused: Bool
    public var shutdown: Bool
    public var dying: Bool
    public var currentMemoryKiB: UInt64
    public var maxMemoryKiB: UInt64
    public var onlineVCPUs: UInt32

    /// The state as `xl list` spells it ("r", "b", "p", "s", "d" combined), in words.
    public var state: String {
        if dying { return "dying" }
        if shutdown { return "shut down" }
        if paused { return "paused" }
        return "running"
    }
}

extension Context {
    /// The id of the domain called `name`.
    public func domainID(named name: String) throws(LibxlError) -> DomainID {
        var id: UInt32 = 0
        try perform("find domain '\(name)'") { libxl_name_to_domid(handle, name, &id) }
        return DomainID(id)
    }

    public func domainName(_ id: DomainID) -> String? {
        guard let p = libxl_domid_to_name(handle, id.rawValue) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The domain's state, or nil when it does not exist.
    public func domainInfo(_ id: DomainID) -> DomainInfo? {
        var info = libxl_dominfo()
        libxl_dominfo_init(&info)
        defer { libxl_dominfo_dispose(&info) }
        guard libxl_domain_info(handle, &info, id.rawValue) == 0 else { return nil }
        return DomainInfo(id: DomainID(info.domid), name: domainName(id), running: info.running, blocked: info.blocked, paused: info.paused,
                          shutdown: info.shutdown, dying: info.dying, currentMemoryKiB: info.current_memkb,
                          maxMemoryKiB: info.max_memkb, onlineVCPUs: info.vcpu_online)
    }

    /// Every domain on this host, dom0 included.
    public func domains() -> [DomainInfo] {
        var count: Int32 = 0
        guard let list = libxl_list_domain(handle, &count) else { return [] }
        defer { libxl_dominfo_list_free(list, count) }
        return (0..<Int(count)).map { i in
            let d = list[i]
            return DomainInfo(id: DomainID(d.domid), name: domainName(DomainID(d.domid)), running: d.running, blocked: d.blocked, paused: d.paused,
                              shutdown: d.shutdown, dying: d.dying, currentMemoryKiB: d.current_memkb,
                              maxMemoryKiB: d.max_memkb, onlineVCPUs: d.vcpu_online)
        }
    }

    public func rename(_ id: DomainID, to newName: String) throws(LibxlError) {
        try perform("rename domain \(id) to '\(newName)'") { libxl_domain_rename(handle, id.rawValue, nil, newName) }
    }

    public func pause(_ id: DomainID) throws(LibxlError) {
        try perform("pause domain \(id)") { libxl_domain_pause(handle, id.rawValue, nil) }
    }

    public func unpause(_ id: DomainID) throws(LibxlError) {
        try perform("unpause domain \(id)") { libxl_domain_unpause(handle, id.rawValue, nil) }
    }

    public func destroy(_ id: DomainID) throws(LibxlError) {
        try perform("destroy domain \(id)") { libxl_domain_destroy(handle, id.rawValue, nil) }
    }

    /// Resumes a domain left suspended by a failed `suspend`. Co-operative resume (the guest's
    /// suspend call returns "cancelled"), as `xl migrate` does; PV Linux guests support it.
    public func resume(_ id: DomainID) throws(LibxlError) {
        try perform("resume domain \(id)") { libxl_domain_resume(handle, id.rawValue, 1, nil) }
    }
}
