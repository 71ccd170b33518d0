/// What a backend learned about the domain before migrating it.
public struct DomainFacts: Sendable, Equatable, Codable {
    public var name: String
    public var uuid: String
    public var memoryBytes: UInt64?
    public var virtualCPUs: Int?
    public var disks: [String]
    /// The domain's virtualization type as its definition says (libvirt's `<domain type=...>`:
    /// kvm, qemu for TCG, xen): the accelerator on hosts that are not the lab.
    public var virtualizationType: String?
    public init(name: String, uuid: String, memoryBytes: UInt64? = nil, virtualCPUs: Int? = nil, disks: [String] = [], virtualizationType: String? = nil) {
        self.virtualizationType = virtualizationType
        self.name = name
        self.uuid = uuid
        self.memoryBytes = memoryBytes
        self.virtualCPUs = virtualCPUs
        self.disks = disks
    }
}

/// One domain as a host lists it.
public struct DomainListing: Sendable, Equatable, Codable {
    public var name: String
    public var uuid: String
    public var id: Int?
    public var state: String
    public var memoryBytes: UInt64
    public var virtualCPUs: Int
    public var persistent: Bool
    public init(name: String, uuid: String, id: Int?, state: String, memoryBytes: UInt64, virtualCPUs: Int, persistent: Bool) {
        self.name = name
        self.uuid = uuid
        self.id = id
        self.state = state
        self.memoryBytes = memoryBytes
        self.virtualCPUs = virtualCPUs
        self.persistent = persistent
    }
}
