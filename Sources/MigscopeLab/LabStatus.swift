import Foundation
import MigscopeCore

/// What the lab is now, as `migscope lab status` shows it.
public struct LabStatus: Sendable, Codable, Equatable {
    public struct Host: Sendable, Codable, Equatable {
        public var name: String
        public var namespace: String
        public var address: String
        /// The daemon's libvirt URI (hosts A and B only).
        public var uri: String?
        public var daemon: String
    }
    public struct Link: Sendable, Codable, Equatable {
        public var bandwidth: String
        public var model: String
        /// iSCSI traffic first on each link. (Optional: statuses printed before it existed.)
        public var storagePriority: Bool?

        init(settings: LabSettings) {
            bandwidth = settings.bandwidth.description
            model = settings.link.rawValue
            storagePriority = settings.prioritisesStorage
        }
    }
    public struct Guest: Sendable, Codable, Equatable {
        public var name: String
        public var host: String?
        public var state: String
        public var memoryMiB: Int
        public var workload: Workload
        public var consoleLog: String
        public var reportLog: String
        /// The disk's bus (optional: statuses printed before it existed).
        public var diskBus: String?
    }
    public var up: Bool
    public var since: Date?
    public var accelerator: String?
    public var acceleratorReason: String?
    public var link: Link?
    public var hosts: [Host]
    public var iscsiTarget: String?
    public var diskSizeMiB: Int?
    /// The first guest (what a one-guest lab always showed), and every guest.
    public var guest: Guest?
    public var guests: [Guest]?
}

extension Lab {
    public static func status() async -> LabStatus {
        guard let state = LabState.load() else {
            return LabStatus(up: isUp(), hosts: [])
        }
        let hosts = LabMachine.allCases.map { m -> LabStatus.Host in
            let daemon: String
            switch m {
            case .hostA, .hostB:
                daemon = HypervisorDaemon.pid(m).map { "libvirtd running (pid \($0))" } ?? "libvirtd not running"
            case .storage:
                daemon = Processes.inNamespace(m.namespace).isEmpty ? "tgtd not running" : "tgtd running"
            }
            return LabStatus.Host(
                name: m.rawValue, namespace: m.namespace, address: m.address,
                uri: LabMachine.hypervisors.contains(m) ? m.libvirtURI : nil, daemon: daemon)
        }
        let guests = LabGuestSlot.upTo(state.settings.guestCount).map { slot in
            let located = LabGuest.locate(slot)
            return LabStatus.Guest(
                name: slot.name, host: located?.host.rawValue, state: located?.state ?? "not running",
                memoryMiB: state.settings.guestMemoryMiB, workload: state.settings.workload(of: slot), consoleLog: slot.consoleLog, reportLog: slot.reportLog,
                diskBus: state.settings.bus.rawValue)
        }
        return LabStatus(
            up: true, since: state.createdAt, accelerator: state.accelerator, acceleratorReason: state.acceleratorReason,
            link: .init(settings: state.settings),
            hosts: hosts, iscsiTarget: "\(LabLayout.targetIQN) at \(LabMachine.storage.address):3260",
            diskSizeMiB: state.settings.diskSizeMiB, guest: guests.first, guests: guests)
    }
}
