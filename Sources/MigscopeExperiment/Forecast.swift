import Foundation
import MigscopeCore
import MigscopeLab
import MigscopeLibvirt

/// Works a migration out before it starts (`migscope predict`, `migrate --predict`): the guest's
/// memory from its host, its dirty rate measured in place, the stream's rate, and the rules the
/// request sets, through the pre-copy model in core.
public enum Forecast {
    /// libvirt hosts (QEMU's convergence test against max downtime, 300 ms unless the request sets it).
    /// `linkRate`: the link the stream takes, as the user gives it for real hosts (the lab's is known).
    public static func make(_ request: MigrationRequest, linkRate: LinkRate?, windows: [Int] = [1, 2, 4],
                            progress: @escaping (String) -> Void = { _ in }) async throws -> MigrationForecast {
        let guest = try await LibvirtInventory.domain(request.domain, on: request.source)
        var rates: [(Double, String)] = []
        if let cap = request.bandwidthMiBps { rates.append((Double(cap) * 1_048_576, "--bandwidth \(cap) MiB/s")) }
        let lab = Lab.recordingContext(source: request.source, destination: request.destination)
        if let bits = (linkRate ?? lab.flatMap { LinkRate($0.linkRate) })?.bitsPerSecond {
            rates.append((Double(bits) / 8, linkRate != nil ? "--link-rate \(linkRate!)" : "the lab's link, \(lab!.linkRate)"))
        }
        guard let stream = rates.min(by: { $0.0 < $1.0 }) else {
            throw RequestProblem(field: "--link-rate", message: "the stream's rate is unknown: give --link-rate (the link between the hosts, e.g. 1gbit) or --bandwidth (a cap, MiB/s)")
        }
        let measured = try await LibvirtInventory.measureDirtyRate(request.domain, on: request.source, windows: windows) { i, s in
            progress("measuring the dirty rate of '\(request.domain)': window \(i) of \(windows.count) (\(s) s)")
        }
        let inputs = PrecopyModel.Inputs(
            memoryBytes: Double(guest.memoryBytes), pageBytes: measured.pageBytes, dirtying: measured.model ?? .none,
            streamBytesPerSecond: stream.0, live: request.mode == .live,
            convergence: .qemu(maxDowntimeMs: Double(request.maxDowntimeMs ?? 300)),
            pauseAfterRounds: request.pauseAfterRounds, stopPolicy: request.stopPolicy, pauseAfterSeconds: request.pauseAfterSeconds)
        return MigrationForecast(inputs: inputs, dirtyRate: measured, streamRateFrom: stream.1, prediction: PrecopyModel.predict(inputs))
    }
}
