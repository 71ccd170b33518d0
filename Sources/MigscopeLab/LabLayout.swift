import MigscopeCore

/// The lab's fixed names, addresses and paths: one place, so setup and teardown agree.
public enum LabLayout {
    public static let stateDirectory = "/run/migscope-lab"
    public static let cacheDirectory = "/var/cache/migscope"
    public static let kernelDirectory = cacheDirectory + "/kernel"
    public static var stateFile: String { stateDirectory + "/lab.json" }
    public static var namespaceFiles: String { stateDirectory + "/ns" }
    public static let switchNamespace = "migscope-switch"
    public static let bridge = "br0"
    public static let prefixLength = 24
    public static let targetIQN = "iqn.2026-11.org.migscope:lab-disk"
    public static let guestName = "migscope-guest"
    public static var guestDirectory: String { stateDirectory + "/guest" }
    /// The guest's serial console: boot messages.
    public static var consoleLog: String { guestDirectory + "/console.log" }
    /// The guest's virtio console: its MIGSCOPE report lines, appended to by whichever QEMU runs it.
    public static var reportLog: String { guestDirectory + "/reports.log" }
    /// The guest's control console (a FIFO pair): the host writes "go" to start a triggered read.
    public static var controlPipe: String { guestDirectory + "/control" }
    /// The folders each libvirt daemon gets a private copy of (bind-mounted in its mount namespace).
    public static let daemonPrivateFolders = ["/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt"]
}

/// One machine of the lab: its namespace, address and switch port.
public enum LabMachine: String, Sendable, CaseIterable, Codable {
    case hostA, hostB, storage

    public var namespace: String {
        switch self {
        case .hostA: "migscope-a"
        case .hostB: "migscope-b"
        case .storage: "migscope-storage"
        }
    }

    public var address: String {
        switch self {
        case .hostA: "198.18.0.1"
        case .hostB: "198.18.0.2"
        case .storage: "198.18.0.10"
        }
    }

    /// The switch's port facing this machine, and the ifb device that shapes what it sends.
    public var switchPort: String {
        switch self {
        case .hostA: "port-a"
        case .hostB: "port-b"
        case .storage: "port-s"
        }
    }
    public var ifb: String { "ifb-" + switchPort.dropFirst(5) }

    public static let hypervisors: [LabMachine] = [.hostA, .hostB]

    /// Distinct host UUIDs, or libvirt takes the two daemons for one host.
    var hostUUID: String {
        switch self {
        case .hostA: "6d6967a0-7363-4f70-8500-00000000000a"
        case .hostB: "6d6967a0-7363-4f70-8500-00000000000b"
        case .storage: "6d6967a0-7363-4f70-8500-000000000010"
        }
    }

    var directory: String { LabLayout.stateDirectory + "/" + rawValue }
    var socketDirectory: String { directory + "/sock" }

    /// The URI that reaches this host's libvirt daemon from anywhere on the machine.
    public var libvirtURI: String { "qemu+unix:///system?socket=\(socketDirectory)/libvirt-sock" }
}
