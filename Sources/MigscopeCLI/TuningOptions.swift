import ArgumentParser
import MigscopeCore

/// `migrate`'s options that tune a live migration to cost the guest less (or to end at all). Their
/// syntax is parsed in core (MigrationTuning), once for the command line and plans.
struct TuningOptions: ParsableArguments {
    @Flag(name: .customLong("auto-converge"), help: "Throttle the guest's CPUs while pre-copy does not converge (the throttle is recorded each sample).")
    var autoConverge = false

    @Option(name: .customLong("auto-converge-initial"), parsing: .unconditional, help: ArgumentHelp("Auto-converge's first throttle (implies --auto-converge).", valueName: "%"),
            transform: ArgumentValue.count("--auto-converge-initial", unit: "percent", in: 1...100))
    var autoConvergeInitial: Int?

    @Option(name: .customLong("auto-converge-increment"), parsing: .unconditional, help: ArgumentHelp("How much auto-converge adds each time (implies --auto-converge).", valueName: "%"),
            transform: ArgumentValue.count("--auto-converge-increment", unit: "percent", in: 1...100))
    var autoConvergeIncrement: Int?

    @Flag(name: .customLong("postcopy"), help: "Switch to post-copy after pre-copy round 1 (or as --postcopy-after says).")
    var postcopy = false

    @Option(name: .customLong("postcopy-after"), parsing: .unconditional, help: ArgumentHelp("When to switch to post-copy: SECONDS after the start, or round:N (implies --postcopy).", valueName: "s|round:N"),
            transform: TuningValue.parse("--postcopy-after", PostcopyTrigger.init(parsing:)))
    var postcopyAfter: PostcopyTrigger?

    @Option(parsing: .unconditional, help: ArgumentHelp("Send memory over N connections.", valueName: "N"),
            transform: ArgumentValue.count("--parallel", unit: "connections", in: RequestLimits.parallelConnections))
    var parallel: Int?

    @Option(name: .customLong("compress"), help: ArgumentHelp("Compress memory on the way: xbzrle (re-sent pages as deltas) or mt (compression threads).", valueName: "xbzrle|mt"))
    var compress: MigrationCompression?

    @Option(name: .customLong("stop-after"), parsing: .unconditional,
            help: ArgumentHelp("Pause the guest for the final copy after N rounds or once M times memory is sent, as Xen 3.x did (xen = rounds=30,sent=3x).", valueName: "rounds=N,sent=Mx"),
            transform: TuningValue.parse("--stop-after", StopPolicy.init(parsing:)))
    var stopAfter: StopPolicy?

    @Option(name: .customLong("downtime-steps"), parsing: .unconditional,
            help: ArgumentHelp("Raise the max downtime to MS in N steps, S seconds apart (as OpenStack Nova does).", valueName: "max=MS,steps=N,delay=S"),
            transform: TuningValue.parse("--downtime-steps", DowntimeSteps.init(parsing:)))
    var downtimeSteps: DowntimeSteps?

    @Option(name: .customLong("io-floor"), parsing: .unconditional,
            help: ArgumentHelp("Keep the guest's read rate at or above PCT % of its rate before the migration by moving the stream's cap (libvirt only).", valueName: "PCT"),
            transform: ArgumentValue.count("--io-floor", unit: "percent", in: 1...99))
    var ioFloor: Int?

    /// The request with these options set.
    func applied(to r: MigrationRequest) -> MigrationRequest {
        var r = r
        if autoConverge || autoConvergeInitial != nil || autoConvergeIncrement != nil {
            r.autoConverge = AutoConverge(initialPercent: autoConvergeInitial, incrementPercent: autoConvergeIncrement)
        }
        if postcopy || postcopyAfter != nil { r.postcopy = postcopyAfter ?? .afterRound(1) }
        r.parallelConnections = parallel
        r.compression = compress
        r.stopPolicy = stopAfter
        r.downtimeSteps = downtimeSteps
        r.ioFloorPercent = ioFloor
        return r
    }
}

enum TuningValue {
    /// A value core parses, its syntax error named by the option.
    static func parse<T>(_ flag: String, _ parse: @escaping @Sendable (String) throws(TuningSyntaxError) -> T) -> @Sendable (String) throws -> T {
        { text in
            do throws(TuningSyntaxError) { return try parse(text) } catch { throw ValidationError("\(flag): \(error.message)") }
        }
    }
}

