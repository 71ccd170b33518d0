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

extension DomainFacts {
    // "virtualCpus", so that snake_case output says virtual_cpus (not virtual_cp_us); runs stored
    // before say "virtualCPUs", still read.
    enum CodingKeys: String, CodingKey {
        case name, uuid, memoryBytes, virtualCPUs = "virtualCpus", disks, virtualizationType
        case storedVirtualCPUs = "virtualCPUs"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        uuid = try c.decode(String.self, forKey: .uuid)
        memoryBytes = try c.decodeIfPresent(UInt64.self, forKey: .memoryBytes)
        virtualCPUs = try c.decodeIfPresent(Int.self, forKey: .virtualCPUs) ?? c.decodeIfPresent(Int.self, forKey: .storedVirtualCPUs)
        disks = try c.decodeIfPresent([String].self, forKey: .disks) ?? []
        virtualizationType = try c.decodeIfPresent(String.self, forKey: .virtualizationType)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(uuid, forKey: .uuid)
        try c.encodeIfPresent(memoryBytes, forKey: .memoryBytes)
        try c.encodeIfPresent(virtualCPUs, forKey: .virtualCPUs)
        try c.encode(disks, forKey: .disks)
        try c.encodeIfPresent(virtualizationType, forKey: .virtualizationType)
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
