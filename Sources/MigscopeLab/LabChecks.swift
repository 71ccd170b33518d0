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
}
