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
    /// The first guest's name; the others are numbered after it (LabGuestSlot).
    public static let guestName = "migscope-guest"
    /// The first guest's folder; it also holds the initramfs every guest boots.
    public static var guestDirectory: String { stateDirectory + "/guest" }
    public static var consoleLog: String { LabGuestSlot.first.consoleLog }
    public static var reportLog: String { LabGuestSlot.first.reportLog }
    public static var controlPipe: String { LabGuestSlot.first.controlPipe }
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

/// One of the lab's guests, numbered from 1. The first keeps the names a one-guest lab always had;
/// each has its own LUN on the iSCSI target, its own consoles and its own workload.
public struct LabGuestSlot: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let number: Int
    /// The most guests a lab runs: one LUN each is made on the target when the lab comes up.
    public static let maximum = 8
    public static let first = LabGuestSlot(1)

    public init(_ number: Int) {
        precondition((1...Self.maximum).contains(number), "a lab guest is numbered 1 to \(Self.maximum)")
        self.number = number
    }

    /// Guests 1 to `count`.
    public static func upTo(_ count: Int) -> [LabGuestSlot] { (1...max(1, min(count, maximum))).map(LabGuestSlot.init) }

    /// The slot of a lab guest's domain name, or nil for any other name.
    public init?(name: String) {
        if name == LabLayout.guestName { self = .first; return }
        let prefix = LabLayout.guestName + "-"
        guard name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)), (2...Self.maximum).contains(n),
              "\(n)" == name.dropFirst(prefix.count) else { return nil }
        self.init(n)
    }

    public var name: String { number == 1 ? LabLayout.guestName : "\(LabLayout.guestName)-\(number)" }
    public var description: String { name }
    public var directory: String { number == 1 ? LabLayout.guestDirectory : LabLayout.stateDirectory + "/guest-\(number)" }
    /// The serial console: boot messages.
    public var consoleLog: String { directory + "/console.log" }
    /// The virtio console: its MIGSCOPE report lines, appended to by whichever QEMU runs it.
    public var reportLog: String { directory + "/reports.log" }
    /// The control console (a FIFO pair): the host writes "go" to start a triggered read.
    public var controlPipe: String { directory + "/control" }
    /// Its logical unit on the target.
    var lun: Int { number }

    public static func < (a: LabGuestSlot, b: LabGuestSlot) -> Bool { a.number < b.number }
}
