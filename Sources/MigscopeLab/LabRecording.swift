import Foundation
import MigscopeCore
import MigscopeProbes

/// Each lab machine's link counters, read from /proc/PID/net/dev of a process living in that
/// machine's namespace (a plain file read, cheap enough for 20 samples a second).
public struct LabLinks: LinkCounterSource {
    let pids: [LabMachine: Int32]

    public init() {
        var p: [LabMachine: Int32] = [:]
        for m in LabMachine.allCases {
            if let pid = Processes.inNamespace(m.namespace).first { p[m] = pid }
        }
        pids = p
    }

    public var description: String {
        "link counters of lab machines " + LabMachine.allCases.filter { pids[$0] != nil }.map(\.rawValue).joined(separator: ", ")
    }

    public func read() -> [LinkCounter] {
        LabMachine.allCases.compactMap { m in
            guard let pid = pids[m], let text = try? String(contentsOfFile: "/proc/\(pid)/net/dev", encoding: .utf8),
                  let c = ProcNetDev.parse(text, interfaces: ["eth0"])["eth0"]
            else { return nil }
            return LinkCounter(link: m.rawValue, sentBytes: c.sent, receivedBytes: c.received)
        }
    }
}

/// What the lab adds to a recording between its hosts: link counters, the guest's console, and
/// the settings to store with the run.
public struct LabRecordingContext: Sendable {
    public var links: LabLinks
    public var consolePath: String
    public var linkRate: String
    public var linkModel: String
    public var storagePriority: Bool
    public var accelerator: String
    public var workload: Workload
    /// The lab machines the source and destination URIs name.
    public var sourceLink: String
    public var destinationLink: String
}

extension Lab {
    /// The lab's context when both URIs are its hosts' daemons; nil otherwise. The console and
    /// workload are those of the lab guest `domain` names (the first guest's for other names).
    public static func recordingContext(source: String, destination: String, domain: String = LabLayout.guestName) -> LabRecordingContext? {
        guard let state = LabState.load() else { return nil }
        func machine(_ uri: String) -> LabMachine? {
            LabMachine.hypervisors.first { HostURI.canonical($0.libvirtURI) == HostURI.canonical(uri) }
        }
        guard let s = machine(source), let d = machine(destination) else { return nil }
        let slot = LabGuestSlot(name: domain) ?? .first
        return LabRecordingContext(
            links: LabLinks(), consolePath: slot.reportLog, linkRate: state.settings.bandwidth.description,
            linkModel: state.settings.link.rawValue, storagePriority: state.settings.prioritisesStorage, accelerator: state.accelerator, workload: state.settings.workload(of: slot),
            sourceLink: s.rawValue, destinationLink: d.rawValue)
    }
}
