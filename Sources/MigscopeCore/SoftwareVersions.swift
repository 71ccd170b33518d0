/// migscope's own version, as `--version` prints it and every run stores it.
public enum MigscopeVersion {
    public static let current = "0.1.0"
}

/// What software a migration ran on, as `migscope version` prints it (and a run may keep).
public struct SoftwareVersions: Sendable, Equatable, Codable {
    public var migscope: String
    /// The libvirt library migscope is linked with.
    public var libvirtLibrary: String
    /// This machine's QEMU (`qemu-system-x86_64 --version`), nil when it has none.
    public var localQEMU: String?
    /// The Xen hypervisor this machine runs under, nil when it does not.
    public var localXen: String?
    public var localKernel: String
    /// Each host named, as its libvirt daemon reports itself.
    public var hosts: [HostSoftware]

    public init(migscope: String, libvirtLibrary: String, localQEMU: String?, localXen: String?, localKernel: String, hosts: [HostSoftware] = []) {
        self.migscope = migscope
        self.libvirtLibrary = libvirtLibrary
        self.localQEMU = localQEMU
        self.localXen = localXen
        self.localKernel = localKernel
        self.hosts = hosts
    }

    enum CodingKeys: String, CodingKey {
        case migscope, libvirtLibrary = "libvirt_library", localQEMU = "qemu", localXen = "xen", localKernel = "kernel", hosts
    }

    /// The lines `migscope version` prints, as `virsh version` lays them out.
    public var lines: [String] {
        var out = ["migscope \(migscope)", "Compiled against library: libvirt \(libvirtLibrary)",
                   "This machine: Linux \(localKernel); \(localQEMU ?? "no qemu-system-x86_64"); \(localXen.map { "Xen \($0)" } ?? "not a Xen host")"]
        for h in hosts {
            out.append("Host \(h.uri)\(h.hostname.map { " (\($0))" } ?? ""): daemon libvirt \(h.libvirtVersion ?? "unknown"), hypervisor \(h.driver ?? "unknown") \(h.hypervisorVersion ?? "version unknown")\(h.kernel.map { ", Linux \($0)" } ?? "")")
        }
        return out
    }
}

/// One libvirt host's software, as its daemon says.
public struct HostSoftware: Sendable, Equatable, Codable {
    /// The URI, without credentials.
    public var uri: String
    public var hostname: String?
    /// libvirt's driver name: QEMU, xenlight, Test...
    public var driver: String?
    public var hypervisorVersion: String?
    public var libvirtVersion: String?
    /// The host's kernel release, where migscope can know it: a host on this machine (the lab's
    /// daemons, qemu:///system). libvirt does not report a remote host's kernel.
    public var kernel: String?

    public init(uri: String, hostname: String?, driver: String?, hypervisorVersion: String?, libvirtVersion: String?, kernel: String? = nil) {
        self.kernel = kernel
        self.uri = uri
        self.hostname = hostname
        self.driver = driver
        self.hypervisorVersion = hypervisorVersion
        self.libvirtVersion = libvirtVersion
    }

    enum CodingKeys: String, CodingKey {
        case uri, hostname, driver, hypervisorVersion = "hypervisor_version", libvirtVersion = "libvirt_version", kernel
    }
}
