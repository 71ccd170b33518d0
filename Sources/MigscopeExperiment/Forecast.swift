import Foundation
import MigscopeCore
import MigscopeLab
import MigscopeLibvirt
import MigscopeLibxl

/// Works a migration out before it starts (`migscope predict`, `migrate --predict`): the guest's
/// memory from its host, its dirty rate (measured in place, or given), the stream's rate, and the
/// rules that will end pre-copy, through the pre-copy model in core.
public enum Forecast {
    public struct Options: Sendable {
        /// The link the stream takes, as the user gives it for real hosts (the lab's is known).
        public var linkRate: LinkRate?
        /// Dirty-rate window lengths to measure, in seconds, and how many times each.
        public var windows: [Int]
        public var repeats: Int
        /// The guest's dirtying as the user gives it (`--dirty-rate`): nothing is measured.
        public var dirtying: DirtyingModel?
        /// In the lab: measure what a TCP stream between the two hosts gets now (iperf3 in their
        /// namespaces, alongside whatever the guest's storage sends over the same link).
        public var probeStream: Bool
        /// The fixed costs of a migration between these hosts (see PrecopyModel.Inputs).
        public var setupSeconds: Double
        public var switchoverMs: Double
        public var switchoverBytes: Double

        public init(linkRate: LinkRate? = nil, windows: [Int] = Forecast.defaultWindows, repeats: Int = Forecast.defaultRepeats, dirtying: DirtyingModel? = nil, probeStream: Bool = false,
                    setupSeconds: Double = 0, switchoverMs: Double = 0, switchoverBytes: Double = 0) {
            self.switchoverBytes = switchoverBytes
            self.setupSeconds = setupSeconds
            self.switchoverMs = switchoverMs
            self.linkRate = linkRate
            self.windows = windows
            self.repeats = repeats
            self.dirtying = dirtying
            self.probeStream = probeStream
        }
    }

    /// Windows of 1 and 2 s, six of each: page sampling counts 2 MiB per sampled page, which a
    /// window of 1 or 2 s reports whole (QEMU gives whole MiB/s, so a 4 s window drops an odd page),
    /// and the mean of six resolves a third of a MiB; measuring takes about 22 s.
    public static let defaultWindows = [1, 2]
    public static let defaultRepeats = 6

    /// How long the stream probe runs (its first second, TCP's slow start, is left out).
    public static let probeSeconds = 3

    /// libvirt hosts run QEMU's convergence test against max downtime (300 ms unless the request
    /// sets it); the libxl backend runs libxenguest's rules (5 rounds or fewer than 50 dirty pages).
    public static func make(_ request: MigrationRequest, options: Options, progress: @escaping (String) -> Void = { _ in }) async throws -> MigrationForecast {
        let backend = BackendChoice.forHost(request.source)
        if backend == .libxl && options.dirtying == nil {
            throw RequestProblem(field: "--dirty-rate", message: "on Xen the dirty rate cannot be measured in place (libxenguest counts dirty pages only while it migrates): give --dirty-rate (a recorded run's rounds show the guest's)")
        }
        let lab = Lab.recordingContext(source: request.source, destination: request.destination, domain: request.domain)
        let memoryBytes: UInt64
        var unused: (bytes: UInt64, from: String)? = nil
        var cachePool: UInt64? = nil
        switch backend {
        case .libxl:
            guard let d = try LibxlInventory.domains(named: request.domain).first else {
                throw MigrationError(.noSuchDomain, "no domain '\(request.domain)' on this Xen host")
            }
            memoryBytes = d.memoryBytes
        case .libvirt:
            memoryBytes = try await LibvirtInventory.domain(request.domain, on: request.source).memoryBytes
        }
        let stream = try streamRate(request, options: options, lab: lab, progress: progress)
        var measured: DirtyRateMeasurement
        if options.dirtying != nil {
            measured = DirtyRateMeasurement(domain: request.domain, host: HostURI.redacted(request.source), method: DirtyRateMeasurement.given, windows: [])
        } else {
            let windows = DirtyRateMeasurement.schedule(options.windows, repeats: options.repeats)
            measured = try await LibvirtInventory.measureDirtyRate(request.domain, on: request.source, windows: windows) { i, s in
                progress("measuring the dirty rate of '\(request.domain)': window \(i) of \(windows.count) (\(s) s)")
            }
        }
        // Free memory stands in for the pages never written, which QEMU sends as zero pages: the
        // lab guest says it on its console every 5 s (read after the windows, nearest the
        // migration; a guest just started is waited for), other guests through a balloon driver.
        if backend == .libvirt {
            if let lab {
                var said = LabChecks.reportedMemory(of: request.domain, atMost: memoryBytes)
                for _ in 0..<12 where said == nil {
                    try await Task.sleep(for: .milliseconds(500))
                    said = LabChecks.reportedMemory(of: request.domain, atMost: memoryBytes)
                }
                if let said {
                    unused = (said.freeBytes, "the lab guest's free memory")
                    // The lab knows how its guest reads: a buffered reader's reads cycle through the
                    // memory free or cached. Other guests' reads are taken as seen in the windows.
                    if lab.workload.mode == .buffered, let cache = said.cacheBytes { cachePool = said.freeBytes + cache }
                }
            } else if let free = try? await LibvirtInventory.unusedMemory(request.domain, on: request.source), free <= memoryBytes {
                unused = (free, "the guest's balloon statistics")
            }
        }
        measured.readCachePoolBytes = cachePool.map { Double($0) }  // not map(Double.init): that picks init(bitPattern:)
        let convergence: PrecopyModel.Convergence = backend == .libxl ? .xen : .qemu(maxDowntimeMs: Double(request.maxDowntimeMs ?? 300))
        let inputs = PrecopyModel.Inputs(
            memoryBytes: Double(memoryBytes), pageBytes: measured.pageBytes, dirtying: options.dirtying ?? measured.model ?? .none,
            streamBytesPerSecond: stream.bytesPerSecond, live: request.mode == .live, convergence: convergence,
            pauseAfterRounds: request.pauseAfterRounds, stopPolicy: request.stopPolicy, pauseAfterSeconds: request.pauseAfterSeconds,
            fixedDowntimeMs: options.switchoverMs, switchoverBytes: options.switchoverBytes, zeroBytes: backend == .libvirt ? Double(unused?.bytes ?? 0) : 0, setupSeconds: options.setupSeconds)
        var f = MigrationForecast(inputs: inputs, dirtyRate: measured, streamRateFrom: stream.from, prediction: PrecopyModel.predict(inputs))
        f.zeroBytesFrom = unused?.from
        return f
    }

    /// The slowest of what caps the stream: the request's own cap, and the link (given, probed, or the lab's).
    static func streamRate(_ request: MigrationRequest, options: Options, lab: LabRecordingContext?, progress: (String) -> Void) throws -> (bytesPerSecond: Double, from: String) {
        var rates: [(Double, String)] = []
        if let cap = request.bandwidthMiBps { rates.append((Double(cap) * 1_048_576, "--bandwidth \(cap) MiB/s")) }
        if options.probeStream {
            guard let lab, let a = LabMachine(rawValue: lab.sourceLink), let b = LabMachine(rawValue: lab.destinationLink) else {
                throw RequestProblem(field: "--probe-stream", message: "--probe-stream: the stream probe runs only between the embedded lab's hosts (iperf3 in their namespaces); for real hosts give --link-rate (the link between them)")
            }
            progress("probing the stream's rate from \(a.rawValue) to \(b.rawValue) for \(probeSeconds) s (iperf3)")
            let bits = try LabChecks.throughput(from: a, to: b, seconds: probeSeconds).forward
            rates.append((bits / 8, String(format: "a %d s TCP probe between the lab's hosts, %.1f Mbit/s", probeSeconds, bits / 1e6)))
        } else if let given = options.linkRate, let bits = given.bitsPerSecond {
            rates.append((Double(bits) / 8, "--link-rate \(given)"))
        } else if let lab, let bits = LinkRate(lab.linkRate)?.bitsPerSecond {
            rates.append((Double(bits) / 8, "the lab's link, \(lab.linkRate)"))
        }
        guard let slowest = rates.min(by: { $0.0 < $1.0 }) else {
            throw RequestProblem(field: "--link-rate", message: "the stream's rate is unknown: give --link-rate (the link between the hosts, e.g. 1gbit) or --bandwidth (a cap, MiB/s)")
        }
        return slowest
    }
}
