import Foundation
import MigscopeCore

/// The lab's network: a namespace per machine, joined by a bridge in a switch namespace, each
/// machine's port shaped to the lab's rate and link model.
enum LabNetwork {
    static func inNamespace(_ ns: String, _ argv: [String]) -> [String] {
        ["ip", "netns", "exec", ns] + argv
    }

    static func existingNamespaces() -> [String] {
        let out = (try? Command.run(["ip", "netns", "list"], check: false).stdout) ?? ""
        return out.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    static var labNamespaces: [String] { LabMachine.allCases.map(\.namespace) + [LabLayout.switchNamespace] }

    static func build() throws {
        let sw = LabLayout.switchNamespace
        for ns in labNamespaces { try Command.run(["ip", "netns", "add", ns]) }
        for ns in labNamespaces { try Command.run(["ip", "-n", ns, "link", "set", "lo", "up"]) }
        try Command.run(["ip", "-n", sw, "link", "add", LabLayout.bridge, "type", "bridge"])
        try Command.run(["ip", "-n", sw, "link", "set", LabLayout.bridge, "up"])
        for m in LabMachine.allCases {
            // The pair is made in the switch namespace, then one end moves into the machine as eth0.
            try Command.run(["ip", "-n", sw, "link", "add", m.switchPort, "type", "veth", "peer", "name", "eth0", "netns", m.namespace])
            try Command.run(["ip", "-n", sw, "link", "set", m.switchPort, "master", LabLayout.bridge])
            try Command.run(["ip", "-n", sw, "link", "set", m.switchPort, "up"])
            try Command.run(["ip", "-n", m.namespace, "addr", "add", "\(m.address)/\(LabLayout.prefixLength)", "dev", "eth0"])
            try Command.run(["ip", "-n", m.namespace, "link", "set", "eth0", "up"])
            try Command.run(["ip", "-n", sw, "link", "add", m.ifb, "type", "ifb"])
            try Command.run(["ip", "-n", sw, "link", "set", m.ifb, "up"])
        }
    }

    /// Sets every port's rate and link model, replacing what was there.
    static func shape(rate: LinkRate, model: LinkModel, storagePriority: Bool) throws {
        let sw = LabLayout.switchNamespace
        for m in LabMachine.allCases {
            for c in Shaping.clear(port: m.switchPort, ifb: m.ifb) { _ = try? Command.run(inNamespace(sw, c), check: false) }
            for c in Shaping.apply(port: m.switchPort, ifb: m.ifb, rate: rate, model: model, storagePriority: storagePriority) {
                try Command.run(inNamespace(sw, c))
            }
        }
    }

    static func remove() {
        for ns in labNamespaces where existingNamespaces().contains(ns) {
            _ = try? Command.run(["ip", "netns", "del", ns], check: false)
        }
    }
}
