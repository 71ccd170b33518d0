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

    static func apply(port: String, ifb: String, rate: LinkRate, model: LinkModel) -> [[String]] {
        guard let bits = rate.bitsPerSecond else { return [] }
        let r = "\(bits)bit"
        // A burst of ~1 ms of traffic (at least one full frame) keeps HTB accurate at high and low rates.
        let burst = "\(max(1600, bits / 8 / 1000))b"
        // A switch port's buffer: about 100 ms of traffic at the link's rate (at least a few frames).
        // Without it the queue is the device's (1000 frames on a veth, 32 on an ifb): seconds of delay
        // at 10 Mbit/s one way, milliseconds the other, which no real port has.
        let queue = "\(max(4500, bits / 8 / 10))"
        let htb: (String) -> [[String]] = { dev in
            [
                ["tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10"],
                ["tc", "class", "add", "dev", dev, "parent", "1:", "classid", "1:10", "htb", "rate", r, "ceil", r, "burst", burst, "cburst", burst],
                ["tc", "qdisc", "add", "dev", dev, "parent", "1:10", "handle", "10:", "bfifo", "limit", queue],
            ]
        }
        let redirect: (String, String) -> [String] = { dev, parent in
            ["tc", "filter", "add", "dev", dev, "parent", parent, "protocol", "all", "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", ifb]
        }
        var cmds: [[String]] = []
        // From the machine: ingress of the port, through the ifb's HTB.
        cmds.append(["tc", "qdisc", "add", "dev", port, "handle", "ffff:", "ingress"])
        cmds.append(redirect(port, "ffff:"))
        cmds += htb(ifb)
        switch model {
        case .fullDuplex:
            // To the machine: its own HTB on the port.
            cmds += htb(port)
        case .shared:
            // To the machine: through the same ifb, sharing its one class.
            cmds.append(["tc", "qdisc", "add", "dev", port, "root", "handle", "1:", "htb", "default", "10"])
            cmds.append(redirect(port, "1:"))
        }
        return cmds
    }
}
