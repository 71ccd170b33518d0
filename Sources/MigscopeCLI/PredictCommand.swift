import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLibvirt

/// `migscope predict GUEST --from URI --to URI ...`: will it converge, how long, how long a pause.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict a live migration before starting it: whether pre-copy converges, its rounds, bytes, time and downtime.",
        discussion: """
            Measures the guest's dirty rate in place over windows of several lengths, each several times (see 'migscope \
            dirtyrate'), and the guest's disk reads meanwhile (a read lands in memory, so the dirtied set grows at least \
            that fast), takes its \
            memory from its host and the stream's rate from --bandwidth, --link-rate or the lab's link, and works pre-copy \
            out round by round under QEMU's convergence test (max downtime) and the rules given (--pause-after-rounds, \
            --stop-after, --timeout). On a link the guest's storage shares, the stream gets less than the link: give \
            --bandwidth with what it gets. Not modelled: auto-converge, compression, post-copy.
            """)

    @Argument(help: "Name or UUID of the running domain.") var domain: String
    @Option(help: ArgumentHelp("libvirt URI of the source host (default: LIBVIRT_DEFAULT_URI).", valueName: "uri")) var from: String?
    @Option(help: ArgumentHelp("libvirt URI of the destination (the lab's link rate is known from it).", valueName: "uri")) var to: String
    @Flag var mode: MigrationRequest.Mode = .live
    @OptionGroup var limits: MigrationLimitOptions
    var bandwidth: UInt64? { limits.bandwidth }
    var maxDowntime: UInt64? { limits.maxDowntime }
    var timeout: Double? { limits.timeout }
    @Option(name: .customLong("link-rate"), help: ArgumentHelp("The link the stream takes, e.g. 1gbit (the lab's is known).", valueName: "rate"))
    var linkRate: LinkRate?
    @Option(name: .customLong("pause-after-rounds"), parsing: .unconditional, help: ArgumentHelp("As for migrate.", valueName: "N"),
            transform: ArgumentValue.integer("--pause-after-rounds", unit: "rounds", in: ArgumentValue.rounds))
    var pauseAfterRounds: UInt64?
    @Option(name: .customLong("stop-after"), help: ArgumentHelp("As for migrate: rounds=N,sent=Kx or xen.", valueName: "policy"),
            transform: TuningValue.parse("--stop-after", StopPolicy.init(parsing:)))
    var stopAfter: StopPolicy?
    @Option(help: ArgumentHelp("Dirty-rate window lengths, as for dirtyrate.", valueName: "s[,s...]"), transform: DirtyrateCommand.windows)
    var seconds: [Int] = Forecast.defaultWindows
    @Option(parsing: .unconditional, help: ArgumentHelp("How many times each window is measured; the model takes each length's mean.", valueName: "N"),
            transform: DirtyrateCommand.repeats)
    var `repeat`: Int = Forecast.defaultRepeats
    @OptionGroup(title: "Dirty rate and stream") var forecast: ForecastOptions
    @Flag(help: "Print JSON.") var json = false
    @Flag(name: .customLong("allow-ext-transport"), help: "Accept URIs that make libvirt run a program or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    var source: (uri: String, named: String)? { DefaultHost.choose(from, flag: "--from") }

    var request: MigrationRequest {
        var r = MigrationRequest(domain: domain, source: source?.uri ?? "", destination: to, mode: mode, bandwidthMiBps: bandwidth,
                                 maxDowntimeMs: maxDowntime, pauseAfterSeconds: timeout, pauseAfterRounds: pauseAfterRounds.map { Int(clamping: $0) })
        r.stopPolicy = stopAfter
        return r
    }

    func validate() throws {
        guard let source else { throw ValidationError("--from is missing (and LIBVIRT_DEFAULT_URI is not set): give the source host's libvirt URI") }
        if BackendChoice.forHost(source.uri) == .libxl {
            // libxenguest's rules and the domain's memory come from this dom0; the destination is not asked.
            if forecast.dirtyRate == nil { throw ValidationError("on Xen the dirty rate cannot be measured in place (libxenguest counts dirty pages only while it migrates): give --dirty-rate MiB/s (a recorded run's rounds show the guest's)") }
            if bandwidth != nil { throw ValidationError("--bandwidth: libxl has no speed cap for a migration; give the link with --link-rate") }
            if forecast.probeStream { throw ValidationError("--probe-stream runs between the embedded lab's libvirt hosts; on Xen give --link-rate") }
        } else {
            for (flag, uri) in [(source.named, source.uri), ("--to", to)] {
                if let why = LibvirtURIPolicy.problem(uri, allowExternal: allowExternalTransport) { throw ValidationError("\(flag) \(uri): \(why)") }
            }
        }
        if let p = request.problems().first { throw ValidationError(p.message) }
    }

    func run() async throws {
        let quiet = json
        let f = try await Forecast.make(request, options: forecast.options(linkRate: linkRate, windows: seconds, repeats: `repeat`)) { if !quiet { printNote($0) } }
        if json { print(try JSONText.encode(f)); return }
        print(ForecastText.render(f))
    }
}

/// The stream's cap, the max downtime and the timeout, as `migrate` takes them: shared by the
/// commands that set up migrations of their own (`predict`, `drain`).
struct MigrationLimitOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("The stream's cap, as for migrate.", valueName: "MiB/s"),
            transform: ArgumentValue.integer("--bandwidth", unit: "MiB/s", in: ArgumentValue.streamCap))
    var bandwidth: UInt64?
    @Option(name: .customLong("max-downtime"), parsing: .unconditional, help: ArgumentHelp("As for migrate (QEMU's default: 300).", valueName: "ms"),
            transform: ArgumentValue.integer("--max-downtime", unit: "milliseconds", in: ArgumentValue.downtime))
    var maxDowntime: UInt64?
    @Option(parsing: .unconditional, help: ArgumentHelp("As for migrate: the guest paused after this many seconds.", valueName: "s"),
            transform: ArgumentValue.seconds("--timeout", in: ArgumentValue.longestMigration))
    var timeout: Double?
}

/// What a prediction takes besides the request, shared by `predict` and `migrate --predict`.
struct ForecastOptions: ParsableArguments {
    @Option(name: .customLong("dirty-rate"), help: ArgumentHelp("The guest's dirty rate, instead of measuring it (needed on Xen).", valueName: "MiB/s"),
            transform: ArgumentValue.decimal("--dirty-rate", unit: "MiB/s", in: 0...1_048_576))
    var dirtyRate: Double?
    @Option(name: .customLong("working-set"), help: ArgumentHelp("With --dirty-rate: the most memory the guest rewrites (default: no limit).", valueName: "MiB"),
            transform: ArgumentValue.decimal("--working-set", unit: "MiB", in: 1...16_777_216))
    var workingSet: Double?
    @Option(name: .customLong("setup-seconds"), help: ArgumentHelp("What a migration between these hosts costs besides moving memory: an idle guest's migration time minus memory/stream (default 0).", valueName: "s"),
            transform: ArgumentValue.decimal("--setup-seconds", unit: "seconds", in: 0...3600))
    var setupSeconds: Double = 0
    @Option(name: .customLong("switchover-ms"), help: ArgumentHelp("What every stop costs besides the memory it sends (device state, resuming on the destination): an idle guest's downtime (default 0).", valueName: "ms"),
            transform: ArgumentValue.decimal("--switchover-ms", unit: "milliseconds", in: 0...600_000))
    var switchoverMs: Double = 0
    @Option(name: .customLong("switchover-mib"), help: ArgumentHelp("What every stop sends besides dirty memory (device state), at the stream's rate: from idle guests' downtimes at two link rates (default 0).", valueName: "MiB"),
            transform: ArgumentValue.decimal("--switchover-mib", unit: "MiB", in: 0...1_048_576))
    var switchoverMiB: Double = 0
    @Flag(name: .customLong("probe-stream"), help: "In the lab: measure the stream's rate with a 3 s TCP probe between the hosts (on a shared link it gets what the guest's storage leaves).")
    var probeStream = false

    func validate() throws {
        if workingSet != nil && dirtyRate == nil { throw ValidationError("--working-set goes with --dirty-rate: give both, or neither to measure the dirty rate") }
    }

    func options(linkRate: LinkRate?, windows: [Int] = Forecast.defaultWindows, repeats: Int = Forecast.defaultRepeats) -> Forecast.Options {
        let given = dirtyRate.map { DirtyingModel(bytesPerSecond: $0 * 1_048_576, workingSetBytes: workingSet.map { $0 * 1_048_576 }) }
        return Forecast.Options(linkRate: linkRate, windows: windows, repeats: repeats, dirtying: given, probeStream: probeStream, setupSeconds: setupSeconds, switchoverMs: switchoverMs,
                                switchoverBytes: switchoverMiB * 1_048_576)
    }
}

enum ForecastText {
    static func render(_ f: MigrationForecast) -> String {
        let p = f.prediction, x = f.inputs
        let given = f.inputs.dirtying
        var lines = f.dirtyRate.method == DirtyRateMeasurement.given
            ? ["dirty rate given: \(Format.rate(given.bytesPerSecond))" + (given.workingSetBytes.map { ", saturating at a working set of \(Format.bytes($0))" } ?? ""), ""]
            : [DirtyRateText.render(f.dirtyRate), ""]
        if let from = f.zeroBytesFrom { lines.append("zero pages: about \(Format.bytes(x.zeroBytes)) never written (\(from)); QEMU sends them as markers") }
        lines.append("memory \(Format.bytes(x.memoryBytes)); stream \(Format.rate(x.streamBytesPerSecond)) (\(f.streamRateFrom)); \(x.live ? "live" : "non-live")")
        let ending: String = switch p.ending {
        case .converged:
            if case .qemu = x.convergence { "converges by itself (what is left fits the max downtime)" } else { "converges by itself (fewer dirty pages left than libxenguest's threshold)" }
        case .hypervisorRoundLimit: "ends by the hypervisor's round limit"
        case .stopRule(let why): "ends by a rule: \(why)"
        case .timeout: "ends by --timeout (the guest paused mid-round)"
        case .nonLive: "non-live: one copy with the guest paused"
        case .neverConverges(let steady): "does not converge: each round leaves about \(Format.bytes(steady)), more than the max downtime lets through; add --timeout, --pause-after-rounds or --stop-after"
        }
        lines.append("prediction: \(ending)")
        if f.closeCall == true {
            lines.append("  close call: \(f.closeCallReason ?? "the answer turns on the dirty rate within measuring error")")
        }
        if p.completes {
            lines.append("  rounds:      \(p.precopyRounds) pre-copy + stop-and-copy")
            lines.append("  bytes sent:  \(Format.bytes(p.bytesSent))" + (x.memoryBytes > 0 ? String(format: " (%.2f x memory)", p.bytesSent / x.memoryBytes) : ""))
            lines.append("  total time:  \(p.migrationSeconds.map { Format.seconds($0) } ?? "-")" + (x.setupSeconds > 0 ? "" : " (moving memory only; see --setup-seconds)"))
            lines.append("  downtime:    \(p.downtimeMs.map { String(format: "%.0f ms", $0) } ?? "-")" + (x.fixedDowntimeMs > 0 || x.switchoverBytes > 0 ? "" : " (memory only; device state adds some: see --switchover-ms)"))
        }
        return lines.joined(separator: "\n")
    }
}
