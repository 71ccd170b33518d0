/// What a user asks for: move one domain from one host to another.
///
/// Backend-neutral: hosts are named by URIs (as each backend names hosts),
/// and every option is in the units people use on the command line.
public struct MigrationRequest: Sendable, Equatable, Codable {
    /// Pre-copy (guest keeps running) or stop-and-copy (guest paused for the whole transfer).
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case live
        case nonLive = "non-live"
    }

    /// Who drives the migration: the source daemon talking to the destination itself, or this client.
    public enum Transport: String, Sendable, Codable {
        case peerToPeer = "p2p"
        case clientManaged = "client"
    }

    public var domain: String
    public var source: String
    public var destination: String
    public var mode: Mode
    public var transport: Transport
    /// Where the migration stream goes (e.g. tcp://198.18.0.2), when it differs from the destination's address.
    public var migrateURI: String?
    /// Name the domain gets on the destination.
    public var destinationName: String?
    /// Cap on the migration stream, MiB/s.
    public var bandwidthMiBps: UInt64?
    /// Longest pause tolerated at the end of a live migration, milliseconds; set before the start.
    public var maxDowntimeMs: UInt64?
    /// Pause the guest after this many seconds so the migration completes (as a timeout does).
    public var pauseAfterSeconds: Double?
    /// Abort the migration after this many seconds; the guest stays on the source.
    public var abortAfterSeconds: Double?
    /// Pause the guest when pre-copy round N + 1 begins, so the migration ends with a stop-and-copy
    /// after N rounds: the rule some hypervisors' own pre-copy follows, for
    /// hypervisors whose pre-copy never gives up by itself.
    public var pauseAfterRounds: Int?
    /// Define the domain on the destination too (a persistent migration).
    /// (Optional, like `undefineSource`, only so that requests stored before it existed decode.)
    public var persistent: Bool?
    /// Remove the domain's definition from the source once it runs on the destination
    /// (undefine the source).
    public var undefineSource: Bool?

    // Ways to cost the guest less, or to end at all (each nil: not used).
    public var autoConverge: AutoConverge?
    public var postcopy: PostcopyTrigger?
    /// Connections the memory goes over.
    public var parallelConnections: Int?
    public var compression: MigrationCompression?
    public var stopPolicy: StopPolicy?
    public var downtimeSteps: DowntimeSteps?
    /// Keep the guest's read rate at or above this percentage of its rate before the migration,
    /// by changing the stream's cap while it runs (IOFloorPacer).
    public var ioFloorPercent: Int?
    /// When the migration counts as stalled and what then (`--progress-timeout`, `--completion-timeout-per-gib`, `--on-stall`).
    public var stallLimits: StallLimits?

    public init(
        domain: String, source: String, destination: String, mode: Mode = .live,
        transport: Transport = .peerToPeer, migrateURI: String? = nil, destinationName: String? = nil,
        bandwidthMiBps: UInt64? = nil, maxDowntimeMs: UInt64? = nil,
        pauseAfterSeconds: Double? = nil, abortAfterSeconds: Double? = nil, pauseAfterRounds: Int? = nil,
        persistent: Bool = false, undefineSource: Bool = false,
        autoConverge: AutoConverge? = nil, postcopy: PostcopyTrigger? = nil, parallelConnections: Int? = nil,
        compression: MigrationCompression? = nil, stopPolicy: StopPolicy? = nil, downtimeSteps: DowntimeSteps? = nil,
        ioFloorPercent: Int? = nil
    ) {
        self.domain = domain
        self.source = source
        self.destination = destination
        self.mode = mode
        self.transport = transport
        self.migrateURI = migrateURI
        self.destinationName = destinationName
        self.bandwidthMiBps = bandwidthMiBps
        self.maxDowntimeMs = maxDowntimeMs
        self.pauseAfterSeconds = pauseAfterSeconds
        self.abortAfterSeconds = abortAfterSeconds
        self.pauseAfterRounds = pauseAfterRounds
        self.persistent = persistent
        self.undefineSource = undefineSource
        self.autoConverge = autoConverge
        self.postcopy = postcopy
        self.parallelConnections = parallelConnections
        self.compression = compression
        self.stopPolicy = stopPolicy
        self.downtimeSteps = downtimeSteps
        self.ioFloorPercent = ioFloorPercent
    }

    /// Every problem with the request, found before anything is started.
    public func problems() -> [RequestProblem] {
        var found: [RequestProblem] = []
        if domain.trimmingCharacters(in: .whitespaces).isEmpty {
            found.append(.init(field: "domain", message: "the domain name is empty; give the name or UUID of a running domain"))
        }
        if source.isEmpty {
            found.append(.init(field: "from", message: "the source URI is empty; give the URI of the host the domain runs on"))
        }
        if destination.isEmpty {
            found.append(.init(field: "to", message: "the destination URI is empty; give the URI of the host to migrate to"))
        }
        if !source.isEmpty, HostURI.sameHost(source, destination) {
            found.append(.init(field: "to", message: "destination '\(destination)' is the source itself; give the URI of another host"))
        }
        if let b = bandwidthMiBps, !RequestLimits.streamCapMiBps.contains(b) {
            found.append(.init(field: "bandwidth", message: "bandwidth must be 1 to \(RequestLimits.streamCapMiBps.upperBound) MiB/s, got \(b)"))
        }
        if let d = maxDowntimeMs, !RequestLimits.maxDowntimeMs.contains(d) {
            found.append(.init(field: "max-downtime", message: "max downtime must be 1 to \(RequestLimits.maxDowntimeMs.upperBound) milliseconds, got \(d)"))
        }
        if let t = pauseAfterSeconds, !RequestLimits.seconds.contains(t) {
            found.append(.init(field: "timeout", message: "timeout must be a positive number of seconds up to \(Int(RequestLimits.seconds.upperBound)), got \(t)"))
        }
        if let t = abortAfterSeconds, !RequestLimits.seconds.contains(t) {
            found.append(.init(field: "abort-after", message: "abort-after must be a positive number of seconds up to \(Int(RequestLimits.seconds.upperBound)), got \(t)"))
        }
        if mode == .nonLive, pauseAfterSeconds != nil {
            found.append(.init(field: "timeout", message: "--timeout pauses a live migration; a non-live migration is paused from the start"))
        }
        if let n = pauseAfterRounds, !RequestLimits.rounds.contains(n) {
            found.append(.init(field: "pause-after-rounds", message: "pause-after-rounds must be a whole number of rounds from 1 to 1000, got \(n)"))
        }
        if mode == .nonLive, pauseAfterRounds != nil {
            found.append(.init(field: "pause-after-rounds", message: "--pause-after-rounds ends a live migration's pre-copy; a non-live migration has none"))
        }
        found += tuningProblems()
        return found
    }

    /// Problems with the tuning options: ranges, options that only mean something live, and pairs
    /// that set the same thing twice.
    func tuningProblems() -> [RequestProblem] {
        var found: [RequestProblem] = []
        let percent = 1...100
        if let a = autoConverge {
            for (name, v) in [("auto-converge-initial", a.initialPercent), ("auto-converge-increment", a.incrementPercent)] {
                if let v, !percent.contains(v) { found.append(.init(field: name, message: "--\(name) must be a percentage from 1 to 100, got \(v)")) }
            }
        }
        if let n = parallelConnections, !RequestLimits.parallelConnections.contains(n) {
            found.append(.init(field: "parallel", message: "--parallel must be \(RequestLimits.parallelConnections.lowerBound) to \(RequestLimits.parallelConnections.upperBound) connections, got \(n)"))
        }
        if let s = stallLimits { found += s.problems }
        if let f = ioFloorPercent, !(1...99).contains(f) {
            found.append(.init(field: "io-floor", message: "--io-floor must be a percentage from 1 to 99 of the guest's rate before the migration, got \(f)"))
        }
        if mode == .nonLive {
            let liveOnly: [(String, Bool)] = [
                ("--auto-converge", autoConverge != nil), ("--postcopy", postcopy != nil), ("--stop-after", stopPolicy != nil),
                ("--downtime-steps", downtimeSteps != nil), ("--io-floor", ioFloorPercent != nil),
            ]
            for (flag, used) in liveOnly where used {
                found.append(.init(field: String(flag.dropFirst(2)), message: "\(flag) tunes a live migration's pre-copy; a non-live migration has none (drop it or use --live)"))
            }
        }
        if ioFloorPercent != nil, bandwidthMiBps != nil {
            found.append(.init(field: "io-floor", message: "--io-floor sets the stream's cap itself while it runs; drop --bandwidth"))
        }
        if downtimeSteps != nil, maxDowntimeMs != nil {
            found.append(.init(field: "downtime-steps", message: "--downtime-steps sets the max downtime itself; drop --max-downtime"))
        }
        if postcopy != nil, parallelConnections != nil {
            found.append(.init(field: "postcopy", message: "--postcopy with --parallel: QEMU cannot switch a multi-connection migration to post-copy; use one of them"))
        }
        if postcopy != nil, compression == .mt {
            found.append(.init(field: "postcopy", message: "--postcopy with --compress mt: QEMU refuses compression threads with post-copy; use --compress xbzrle or drop one"))
        }
        return found
    }
}

/// The ranges a request's numbers must fall in, written once for the command line, plans and the
/// request's own check: beyond them a value is a typo or an attack, and converting it would trap.
public enum RequestLimits {
    /// MiB/s: a terabyte per second is beyond any link.
    public static let streamCapMiBps: ClosedRange<UInt64> = 1...1_000_000
    /// Milliseconds: an hour.
    public static let maxDowntimeMs: ClosedRange<UInt64> = 1...3_600_000
    /// Seconds for a timeout or an abort: a week at most.
    public static let seconds: ClosedRange<Double> = 0.001...604_800
    public static let rounds: ClosedRange<Int> = 1...1000
    public static let parallelConnections: ClosedRange<Int> = 2...64
}

/// One thing wrong with a request, naming the option it concerns.
public struct RequestProblem: UserFacingError, Sendable, Equatable {
    public var field: String
    public var message: String
    /// Bad input: a usage error.
    public var exitStatus: Int32 { 2 }
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}
