import Foundation

/// A moment in the run: its kind, typed facts that analysis reads, and words for people.
///
/// Whoever writes an event and whoever reads it share `EventFacts`: nothing parses `detail`.
public struct EventRecord: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case recordingStarted = "recording-started"
        case migrationRequested = "migration-requested"
        case migrationStarted = "migration-started"
        case roundStarted = "round-started"
        case guestPaused = "guest-paused"
        case guestResumed = "guest-resumed"
        case startedOnDestination = "started-on-destination"
        case stoppedOnSource = "stopped-on-source"
        case pausedForTimeout = "paused-for-timeout"
        case pausedAfterRounds = "paused-after-rounds"
        /// The stop policy paused the guest (`facts.rounds`, `facts.bytesSent`).
        case stoppedByPolicy = "stopped-by-policy"
        case postcopyStarted = "postcopy-started"
        /// `facts.downtimeMs`: the new max downtime.
        case maxDowntimeSet = "max-downtime-set"
        /// `facts.rateBytesPerSecond`: the new cap on the stream; nil when it was lifted.
        case speedCapSet = "speed-cap-set"
        case abortRequested = "abort-requested"
        /// The migration stalled (progress or completion timeout); detail says what migscope did.
        case stallDetected = "stall-detected"
        case migrationCompleted = "migration-completed"
        case migrationFailed = "migration-failed"
        case migrationAborted = "migration-aborted"
        case workloadDone = "workload-done"
        /// The guest stopped running after its migration completed (it runs on neither host).
        case guestGone = "guest-gone"
        /// The guest still runs but read nothing, or reported nothing, for the recorder's `readStall`
        /// after its migration.
        case workloadStalled = "workload-stalled"
        /// Guest console lines dropped as untrue or over-long (`facts.count`).
        case guestLinesDropped = "guest-lines-dropped"
        case note
        case recordingEnded = "recording-ended"
    }
    public var t: Double
    public var kind: Kind
    /// Words for people (a table of events, an export); analysis reads `facts`.
    public var detail: String
    public var facts: EventFacts

    public init(t: Double, kind: Kind, detail: String = "", facts: EventFacts = EventFacts()) {
        self.t = t
        self.kind = kind
        self.detail = detail
        self.facts = facts
    }

    public static func roundStarted(t: Double, round: Int) -> EventRecord {
        EventRecord(t: t, kind: .roundStarted, detail: "\(round)", facts: EventFacts(round: round))
    }

    public static func guestPaused(t: Double, on host: HostRole) -> EventRecord {
        EventRecord(t: t, kind: .guestPaused, detail: host.rawValue, facts: EventFacts(host: host))
    }

    public static func guestResumed(t: Double, on host: HostRole) -> EventRecord {
        EventRecord(t: t, kind: .guestResumed, detail: host.rawValue, facts: EventFacts(host: host))
    }

    public static func migrationCompleted(t: Double, location: DomainLocation.Place, downtimeMs: Double?, bytesSent: UInt64?, rounds: Int) -> EventRecord {
        let f = EventFacts(location: location, downtimeMs: downtimeMs, bytesSent: bytesSent, rounds: rounds)
        return EventRecord(t: t, kind: .migrationCompleted, detail: f.words, facts: f)
    }

    public static func workloadDone(t: Double, readBytes: UInt64, guestSeconds: Double, hostSeconds: Double?) -> EventRecord {
        let f = EventFacts(readBytes: readBytes, guestSeconds: guestSeconds, hostSeconds: hostSeconds)
        return EventRecord(t: t, kind: .workloadDone, detail: f.words, facts: f)
    }

    public static func guestLinesDropped(t: Double, count: Int) -> EventRecord {
        EventRecord(t: t, kind: .guestLinesDropped, detail: "\(count)", facts: EventFacts(count: count))
    }
}

/// The figures an event carries; which are set depends on its kind.
public struct EventFacts: Sendable, Equatable, Codable {
    /// guest-paused, guest-resumed: on which host.
    public var host: HostRole?
    /// round-started: the hypervisor's round number.
    public var round: Int?
    /// migration-completed: where the domain ended up, the downtime, bytes and rounds.
    public var location: DomainLocation.Place?
    public var downtimeMs: Double?
    public var bytesSent: UInt64?
    public var rounds: Int?
    /// workload-done: bytes read, the read's seconds on the guest's clock and (pauses included) on the host's.
    public var readBytes: UInt64?
    public var guestSeconds: Double?
    public var hostSeconds: Double?
    /// guest-lines-dropped: how many.
    public var count: Int?
    /// speed-cap-set: the cap, bytes/s (nil: none).
    public var rateBytesPerSecond: Double?

    public init(host: HostRole? = nil, round: Int? = nil, location: DomainLocation.Place? = nil, downtimeMs: Double? = nil,
                bytesSent: UInt64? = nil, rounds: Int? = nil, readBytes: UInt64? = nil, guestSeconds: Double? = nil,
                hostSeconds: Double? = nil, count: Int? = nil, rateBytesPerSecond: Double? = nil) {
        self.host = host
        self.round = round
        self.location = location
        self.downtimeMs = downtimeMs
        self.bytesSent = bytesSent
        self.rounds = rounds
        self.readBytes = readBytes
        self.guestSeconds = guestSeconds
        self.hostSeconds = hostSeconds
        self.count = count
        self.rateBytesPerSecond = rateBytesPerSecond
    }

    public var isEmpty: Bool { self == EventFacts() }

    /// The facts as `name=value` words, for people reading an event table.
    public var words: String {
        var w: [String] = []
        if let host { w.append("host=\(host.rawValue)") }
        if let round { w.append("round=\(round)") }
        if let location { w.append("location=\(location.rawValue)") }
        if let downtimeMs { w.append("downtime_ms=\(NumberWords.plain(downtimeMs))") }
        if let bytesSent { w.append("bytes=\(bytesSent)") }
        if let rounds { w.append("rounds=\(rounds)") }
        if let readBytes { w.append("read_total=\(readBytes)") }
        if let guestSeconds { w.append("seconds=\(NumberWords.plain(guestSeconds))") }
        if let hostSeconds { w.append("host_seconds=\(NumberWords.plain(hostSeconds))") }
        if let count { w.append("count=\(count)") }
        if let rateBytesPerSecond { w.append("rate_bps=\(NumberWords.plain(rateBytesPerSecond))") }
        return w.joined(separator: " ")
    }
}

enum NumberWords {
    /// Integers without a fraction, others with at most two decimals.
    static func plain(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.2f", v)
    }
}
