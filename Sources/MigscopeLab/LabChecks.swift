import Foundation
import MigscopeCore

/// Measurements of the lab itself: what its links really carry, who reads from the target.
public enum LabChecks {
    /// TCP throughput from one machine to another with iperf3, in bits/s (receiver's count).
    /// With `bothWays`, a second stream runs the other way at the same time; both rates are returned.
    /// The first second (TCP's slow start) is left out of the figure.
    public static func throughput(from a: LabMachine, to b: LabMachine, seconds: Int = 5, bothWays: Bool = false) throws -> (forward: Double, reverse: Double?) {
        try Tools.require(["iperf3"])
        let server = try Command.spawnDetached(
            LabNetwork.inNamespace(b.namespace, ["iperf3", "-s", "-1", "-B", b.address, "-p", "5201"]),
            logTo: LabLayout.stateDirectory + "/iperf3-server.log")
        var reverseServer: Int32? = nil
        if bothWays {
            reverseServer = try Command.spawnDetached(
                LabNetwork.inNamespace(a.namespace, ["iperf3", "-s", "-1", "-B", a.address, "-p", "5202"]),
                logTo: LabLayout.stateDirectory + "/iperf3-server-2.log")
        }
        defer { Processes.end([server] + (reverseServer.map { [$0] } ?? []), grace: 1) }
        Thread.sleep(forTimeInterval: 0.5)
        let client: @Sendable ([String]) -> Double? = { argv in
            guard let out = try? Command.run(argv, check: false, timeout: Double(seconds + 30)),
                  let json = try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any],
                  let end = json["end"] as? [String: Any], let sum = end["sum_received"] as? [String: Any]
            else { return nil }
            return sum["bits_per_second"] as? Double
        }
        let forwardArgs = LabNetwork.inNamespace(a.namespace, ["iperf3", "-c", b.address, "-p", "5201", "-t", "\(seconds)", "--omit", "1", "-J"])
        guard bothWays else {
            guard let f = client(forwardArgs) else { throw LabError("iperf3 from \(a.rawValue) to \(b.rawValue) failed") }
            return (f, nil)
        }
        let reverseArgs = LabNetwork.inNamespace(b.namespace, ["iperf3", "-c", a.address, "-p", "5202", "-t", "\(seconds)", "--omit", "1", "-J"])
        nonisolated(unsafe) var r: Double? = nil
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { r = client(reverseArgs); group.leave() }
        let f = client(forwardArgs)
        group.wait()
        guard let f, let r else { throw LabError("iperf3 between \(a.rawValue) and \(b.rawValue) failed") }
        return (f, r)
    }

    /// What the guest last said of its memory (its "MIGSCOPE mem" lines, every 5 s), from the end
    /// of its report log: free memory, and what its block and page caches hold (nil from a guest
    /// built before it said so). Nil when it said nothing believable (more than its memory, or not
    /// a number: a guest's words are bounded like any input), or nothing since it booted.
    public static func reportedMemory(of domain: String, atMost memoryBytes: UInt64) -> (freeBytes: UInt64, cacheBytes: UInt64?)? {
        let slot = LabGuestSlot(name: domain) ?? .first
        let end = LabGuest.reportSize(slot)
        guard let text = LabGuest.text(of: slot.reportLog, from: end > 65_536 ? end - 65_536 : 0) else { return nil }
        // The log is appended to by every guest started: only the running one's lines count.
        for line in text.split(whereSeparator: \.isNewline).reversed() {
            if line.contains("MIGSCOPE booted") { return nil }
            guard line.contains("MIGSCOPE mem ") else { continue }
            let fields = line.split(separator: " ")
            func kib(_ name: String) -> UInt64? {
                guard let f = fields.first(where: { $0.hasPrefix(name + "=") }),
                      let v = UInt64(f.dropFirst(name.count + 1).filter { !$0.isWhitespace }), v <= memoryBytes / 1024 else { return nil }
                return v * 1024
            }
            guard let free = kib("free_kib") else { return nil }
            let cache = kib("buffers_kib").flatMap { b in kib("cached_kib").map { b + $0 } }
            return (free, cache.flatMap { free + $0 <= memoryBytes ? $0 : nil })
        }
        return nil
    }

    /// The addresses of the initiators logged in to the iSCSI target now.
    public static func iscsiInitiatorAddresses() -> [String] {
        guard let out = try? StorageTarget.tgtadm(["--mode", "target", "--op", "show"], check: false) else { return [] }
        return out.stdout.split(separator: "\n").compactMap { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("IP Address:") ? t.dropFirst("IP Address:".count).trimmingCharacters(in: .whitespaces) : nil
        }
    }

    /// The guest's report lines from a byte offset, and the current end.
    public static func reports(from offset: UInt64) -> (text: String, end: UInt64) {
        (LabGuest.text(of: LabLayout.reportLog, from: offset) ?? "", LabGuest.reportSize())
    }

    /// Where the guest's console log ends now: pass it to `guestCrash(since:)` later.
    public static func consoleEnd() -> UInt64 { LabGuest.consoleSize() }

    /// The guest kernel's own words for a crash written to its console after `offset`, or nil.
    ///
    /// Under TCG here (this machine's KVM cannot run guests), QEMU 7.2 sometimes hands the guest a
    /// corrupt virtio ring right after a completed live migration while it reads O_DIRECT: the
    /// kernel says "request:id 0 is not a head!" (virtio-scsi) or oopses in virtblk_done
    /// (virtio-blk), panics, and libvirt destroys the domain (on_crash). Measured 2026-12-02 on the
    /// shared 100 Mbit/s link: 3 of 8 migrations with virtio-scsi, and with ioeventfd off as well.
    public static func guestCrash(since offset: UInt64) -> String? {
        guard let text = LabGuest.consoleText(from: offset) else { return nil }
        return crashLine(in: Substring(text))
    }

    /// The crash line of the guest that booted last (see `guestCrash(since:)`), or nil.
    public static func lastGuestCrash(slot: LabGuestSlot = .first) -> String? {
        guard let text = LabGuest.consoleText(from: 0, slot: slot) else { return nil }
        let lastBoot = text.range(of: "MIGSCOPE booted", options: .backwards)?.lowerBound ?? text.startIndex
        return crashLine(in: text[lastBoot...])
    }

    static func crashLine(in text: Substring) -> String? {
        let signs = ["is not a head", "Kernel panic", "BUG: ", "Oops", "general protection fault", "list_add corruption", "list_del corruption"]
        let lines = text.split(whereSeparator: \.isNewline)
        guard let first = lines.first(where: { line in signs.contains { line.contains($0) } }) else { return nil }
        return String(first.trimmingCharacters(in: .whitespaces).prefix(160))
    }
}
