import MigscopeCore

/// The tc commands that give one switch port its rate and link model. Pure: tested without a kernel.
///
/// Traffic TO a machine leaves the switch port (egress); traffic FROM it enters the port (ingress),
/// which tc can only shape by redirecting it to an ifb device. Full duplex shapes each direction
/// with its own HTB class; shared sends both directions through the one ifb, so they share a rate.
enum Shaping {
    static func clear(port: String, ifb: String) -> [[String]] {
        [
            ["tc", "qdisc", "del", "dev", port, "root"],
            ["tc", "qdisc", "del", "dev", port, "ingress"],
            ["tc", "qdisc", "del", "dev", ifb, "root"],
        ]
    }

    /// The iSCSI port: its traffic (both ways) is the storage class's under storage priority.
    static let storagePort = 3260

    static func apply(port: String, ifb: String, rate: LinkRate, model: LinkModel, storagePriority: Bool = false) -> [[String]] {
        guard let bits = rate.bitsPerSecond else { return [] }
        let redirect: (String, String) -> [String] = { dev, parent in
            ["tc", "filter", "add", "dev", dev, "parent", parent, "protocol", "all", "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", ifb]
        }
        let shape: (String) -> [[String]] = { dev in
            storagePriority ? prioritisedHTB(dev: dev, bits: bits) : singleHTB(dev: dev, bits: bits)
        }
        var cmds: [[String]] = []
        // From the machine: ingress of the port, through the ifb's HTB.
        cmds.append(["tc", "qdisc", "add", "dev", port, "handle", "ffff:", "ingress"])
        cmds.append(redirect(port, "ffff:"))
        cmds += shape(ifb)
        switch model {
        case .fullDuplex:
            // To the machine: its own HTB on the port.
            cmds += shape(port)
        case .shared:
            // To the machine: through the same ifb, sharing its one class.
            cmds.append(["tc", "qdisc", "add", "dev", port, "root", "handle", "1:", "htb", "default", "10"])
            cmds.append(redirect(port, "1:"))
        }
        return cmds
    }

    /// A burst of ~1 ms of traffic (at least one full frame) keeps HTB accurate at high and low rates.
    static func burst(_ bits: UInt64) -> String { "\(max(1600, bits / 8 / 1000))b" }

    /// A switch port's buffer: about 100 ms of traffic at the link's rate (at least a few frames).
    /// Without it the queue is the device's (1000 frames on a veth, 32 on an ifb): seconds of delay
    /// at 10 Mbit/s one way, milliseconds the other, which no real port has.
    static func queue(_ bits: UInt64) -> String { "\(max(4500, bits / 8 / 10))" }

    /// One class at the link's rate: every flow shares it as TCP sorts it out.
    static func singleHTB(dev: String, bits: UInt64) -> [[String]] {
        let r = "\(bits)bit", b = burst(bits)
        return [
            ["tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10"],
            ["tc", "class", "add", "dev", dev, "parent", "1:", "classid", "1:10", "htb", "rate", r, "ceil", r, "burst", b, "cburst", b],
            ["tc", "qdisc", "add", "dev", dev, "parent", "1:10", "handle", "10:", "bfifo", "limit", queue(bits)],
        ]
    }

    /// Storage first: under one parent at the link's rate, iSCSI (TCP 3260, either way) is
    /// guaranteed nine tenths of it and served first (prio 0), everything else is guaranteed the
    /// last tenth and gets what storage leaves (prio 1); each may borrow up to the whole rate. The
    /// tenth keeps the migration moving under a reader that would take everything (with a twentieth,
    /// a 96 MiB guest's pre-copy ran 13 minutes without converging), and control traffic alive.
    static func prioritisedHTB(dev: String, bits: UInt64) -> [[String]] {
        let r = "\(bits)bit", b = burst(bits)
        let rest = max(LabSettings.linkRateRange.lowerBound / 10, bits / 10)
        let storage = "\(bits - rest)bit", other = "\(rest)bit"
        var c: [[String]] = [
            ["tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10"],
            ["tc", "class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", r, "ceil", r, "burst", b, "cburst", b],
            ["tc", "class", "add", "dev", dev, "parent", "1:1", "classid", "1:20", "htb", "rate", storage, "ceil", r, "burst", b, "cburst", b, "prio", "0"],
            ["tc", "class", "add", "dev", dev, "parent", "1:1", "classid", "1:10", "htb", "rate", other, "ceil", r, "burst", b, "cburst", b, "prio", "1"],
            ["tc", "qdisc", "add", "dev", dev, "parent", "1:20", "handle", "20:", "bfifo", "limit", queue(bits)],
            ["tc", "qdisc", "add", "dev", dev, "parent", "1:10", "handle", "10:", "bfifo", "limit", queue(bits)],
        ]
        for field in ["sport", "dport"] {
            c.append(["tc", "filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32",
                      "match", "ip", field, "\(storagePort)", "0xffff", "flowid", "1:20"])
        }
        return c
    }
}
