/// Keeps the guest's read rate at or above a floor while it migrates, by moving the cap on the
/// migration stream: where the guest's storage traffic and the stream share a link, every byte/s
/// the stream gives up is one the guest can read.
///
/// Pure: fed one observation per interval, it answers what the cap should be. It knows nothing of
/// the link's capacity beforehand; it sees the guest's rate, the stream's rate, the dirty rate and
/// what remains, and learns the link's rate as the two together move it.
///
/// The cap is set forward from that (the link's rate less what the guest should read), and a
/// proportional-integral correction on the guest's own rate takes up what the simple picture misses
/// (a stream that sends in bursts and does not reach its cap, the stream's ramp after a change).
/// It aims above the floor by what the stop will cost: the guest reads nothing from its last report
/// before the pause to its resumption (measured in the lab: 0.9 to 1.2 s at every stop), and that
/// silence counts in the migration's mean as any other second.
public struct IOFloorPacer: Sendable {
    public struct Settings: Sendable, Equatable {
        /// The floor, percent of the guest's read rate before the migration.
        public var floorPercent: Int
        /// Share of this interval's error (guest rate less the aim) added to the cap: small, since
        /// a guest's line counts whole blocks (about 9 % of its rate apart in the lab).
        public var proportionalGain = 0.3
        /// Share of the summed errors so far added to the cap, per interval: what makes the mean hold.
        public var integralGain = 0.3
        /// The stream is never held below the dirty rate times (1 + this): it must still converge.
        public var dirtyMargin: Double = 0.25
        /// The least cap it sets, MiB/s (libvirt's unit; 0 would mean "no cap").
        public var minimumMiBps: UInt64 = 1
        /// Points above the floor it aims at, besides the stop's share. None by default: the lab's
        /// runs (2026-12-06) came out at 49.8-54.7 % for 50 and 73.4-75.9 % for 75 aiming at the
        /// floor itself; where the stop falls between two of the guest's reports moves a 12 s
        /// migration's mean by about 2 points either way, so the floor is the middle of what it gets.
        public var headroomPercent = 0
        /// How far apart the guest's rate reports come, seconds: the stop costs about one of them
        /// besides the pause itself.
        public var reportIntervalSeconds = 1.0

        public init(floorPercent: Int) {
            self.floorPercent = floorPercent
        }
    }

    /// One interval's figures; rates in bytes/s.
    public struct Observation: Sendable, Equatable {
        public var guestReadBytesPerSecond: Double
        public var streamBytesPerSecond: Double?
        public var dirtyBytesPerSecond: Double?
        public var remainingBytes: UInt64?
        /// The downtime the hypervisor stops pre-copy within.
        public var maxDowntimeMs: UInt64
        /// Seconds since the migration started.
        public var elapsedSeconds: Double?

        public init(guestReadBytesPerSecond: Double, streamBytesPerSecond: Double? = nil, dirtyBytesPerSecond: Double? = nil,
                    remainingBytes: UInt64? = nil, maxDowntimeMs: UInt64 = 300, elapsedSeconds: Double? = nil) {
            self.guestReadBytesPerSecond = guestReadBytesPerSecond
            self.streamBytesPerSecond = streamBytesPerSecond
            self.dirtyBytesPerSecond = dirtyBytesPerSecond
            self.remainingBytes = remainingBytes
            self.maxDowntimeMs = maxDowntimeMs
            self.elapsedSeconds = elapsedSeconds
        }
    }

    public enum Decision: Sendable, Equatable {
        case keep
        case cap(mebibytesPerSecond: UInt64, why: String)
        /// Lift the cap for now: the guest is over its floor with the cap at the link's rate, where
        /// a cap still holds the stream back (QEMU's limiter sends in bursts). It may come back.
        case uncap(why: String)
        /// Lift the cap for good: what remains can go within the max downtime at full speed.
        case release(why: String)
    }

    public let settings: Settings
    /// The guest's read rate before the migration, bytes/s.
    public let baselineBytesPerSecond: Double
    /// The cap it aims at, bytes/s, unrounded; what it applies dithers around it.
    public private(set) var targetCapBytesPerSecond: Double
    public private(set) var appliedMiBps: UInt64?
    public private(set) var released = false
    /// The guest's rate it aimed at in the last decision, bytes/s (the floor, its headroom and the stop's share).
    public private(set) var lastAimBytesPerSecond: Double
    /// Whether a cap was ever set: before the first, no cap means "not started", not "lifted".
    private var initialised = false
    /// What rounding left over, so the applied caps average to the target.
    private var roundingCarry = 0.0
    /// The errors summed over the decisions so far, bytes/s x decisions.
    private var errorSum = 0.0
    /// The guest and the stream together, summed over the intervals that had both: the link's rate as seen.
    private var combinedSum = 0.0
    private var combinedCount = 0
    /// The most the guest and the stream moved together in an interval.
    private var highestCombined: Double
    /// Decisions running in which the stream sent well short of its cap.
    private var shortIntervals = 0
    /// "Well short": under this share of the cap (a stream ramping to a new cap gets there in 2-3 s).
    static let shortOfCap = 0.75

    static let mebibyte = 1_048_576.0

    public init(settings: Settings, baselineBytesPerSecond: Double) {
        self.settings = settings
        self.baselineBytesPerSecond = baselineBytesPerSecond
        highestCombined = baselineBytesPerSecond
        lastAimBytesPerSecond = baselineBytesPerSecond * settings.aimRatio
        // A guest that had the link to itself read at about the link's rate: leave the stream the
        // rest, so the stream does not swamp the guest while the first measurements come in.
        targetCapBytesPerSecond = max(Double(settings.minimumMiBps) * Self.mebibyte, baselineBytesPerSecond - lastAimBytesPerSecond)
    }

    public var floorBytesPerSecond: Double { baselineBytesPerSecond * settings.floorRatio }

    /// The link's rate as the guest and the stream have moved it together (the guest's own rate
    /// before any stream ran, until both were seen).
    var linkBytesPerSecond: Double {
        combinedCount == 0 ? baselineBytesPerSecond : max(baselineBytesPerSecond, combinedSum / Double(combinedCount))
    }

    /// What the guest's reports must average while pre-copy runs for the migration's mean, its
    /// stop's silence included, to reach the floor and its headroom. The stop's share is of the
    /// migration's expected length (so far, plus what remains at the stream's rate).
    func aim(_ o: Observation) -> Double {
        let base = baselineBytesPerSecond * settings.aimRatio
        guard let elapsed = o.elapsedSeconds, let remaining = o.remainingBytes,
              let stream = o.streamBytesPerSecond, stream > 0 else { return base }
        // The pause itself lasts up to the max downtime (measured: 0.14-0.28 s of 0.3).
        let stop = settings.reportIntervalSeconds + Double(o.maxDowntimeMs) / 2000
        let expected = max(elapsed + Double(remaining) / stream, 2 * stop)
        return min(baselineBytesPerSecond * 0.99, base * expected / (expected - stop))
    }

    /// Counts the guest's reading over `seconds` of the migration that no decision saw (the
    /// line that straddles the start tells mostly of the link without the stream, and the
    /// migration's mean counts it): what it read over or under the aim is made up later.
    public mutating func account(guestReadBytesPerSecond: Double, seconds: Double) {
        addToSum((guestReadBytesPerSecond - lastAimBytesPerSecond) * max(0, min(1, seconds)), aim: lastAimBytesPerSecond)
    }

    /// The sum carries at most four seconds of the aim either way: enough for its share of the
    /// cap to reach the link's rate (and lift a cap the stream does not reach), not so much that
    /// a guest long over its aim may then sit under it for long, or a long stall be made up by
    /// starving the stream.
    private mutating func addToSum(_ error: Double, aim: Double) {
        errorSum = min(4 * aim, max(-4 * aim, errorSum + error))
    }

    /// The cap to start the migration with.
    public mutating func initialCap() -> Decision {
        applyTarget(why: "start: \(Self.words(floorBytesPerSecond)) floor of \(Self.words(baselineBytesPerSecond)) before")
    }

    public mutating func decide(_ o: Observation) -> Decision {
        guard !released else { return .keep }
        let stream = o.streamBytesPerSecond ?? 0
        if stream > 0 {
            highestCombined = max(highestCombined, o.guestReadBytesPerSecond + stream)
            combinedSum += o.guestReadBytesPerSecond + stream
            combinedCount += 1
        }
        if let remaining = o.remainingBytes, remaining > 0,
           Double(remaining) <= highestCombined * Double(o.maxDowntimeMs) / 1000 {
            released = true
            appliedMiBps = nil
            return .release(why: "\(Self.words(Double(remaining))) left fits \(o.maxDowntimeMs) ms at the link's \(Self.words(highestCombined))/s")
        }
        let aim = aim(o)
        lastAimBytesPerSecond = aim
        let error = o.guestReadBytesPerSecond - aim
        // Lifted, it stays lifted while the guest holds its aim.
        if appliedMiBps == nil, initialised, error >= 0 { return .keep }
        addToSum(error, aim: aim)
        var target = linkBytesPerSecond - aim + settings.proportionalGain * error + settings.integralGain * errorSum
        var why = error < 0 ? "guest \(Self.words(-error))/s under its aim" : "guest \(Self.words(error))/s over its aim"
        // A cap the stream does not reach still holds it back (measured in the lab: QEMU's limiter
        // sends in bursts; caps of 8-10 MiB/s held a stream to 5 MB/s that took 6.5 uncapped, and
        // left a guest at 61 % for a 50 % floor): once the guest is over its aim with the cap at
        // the link's rate, or with a stream well short of its cap twice running, lift it.
        let link = linkBytesPerSecond
        let short = stream > 0 && appliedMiBps.map { stream < Self.shortOfCap * Double($0) * Self.mebibyte } == true
        shortIntervals = short ? shortIntervals + 1 : 0
        if error > 0, target >= link || shortIntervals >= 2 {
            // The sum stops growing where no cap can act on it (no wind-up while lifted).
            errorSum -= error
            targetCapBytesPerSecond = max(target, link)
            roundingCarry = 0
            shortIntervals = 0
            guard appliedMiBps != nil else { return .keep }
            appliedMiBps = nil
            return .uncap(why: why + (target >= link ? " with the cap at the link's \(Self.words(link))/s"
                                                     : " with the stream at \(Self.words(stream))/s, short of its cap"))
        }
        let least = Double(settings.minimumMiBps) * Self.mebibyte
        let convergence = (o.dirtyBytesPerSecond ?? 0) * (1 + settings.dirtyMargin)
        if target < max(least, convergence) {
            // Held at a bound, the sum does not grow past it (else it would take as long to unwind).
            errorSum -= error
            if target < convergence { why = "held at the dirty rate plus \(Int(settings.dirtyMargin * 100)) % so pre-copy converges" }
            target = max(least, convergence)
        }
        targetCapBytesPerSecond = target
        return applyTarget(why: why)
    }

    /// Rounds the target to whole MiB/s, carrying the remainder so the caps average to the target.
    private mutating func applyTarget(why: String) -> Decision {
        let wanted = targetCapBytesPerSecond / Self.mebibyte + roundingCarry
        let mib = max(settings.minimumMiBps, UInt64(max(0, wanted.rounded())))
        roundingCarry = wanted - Double(mib)
        roundingCarry = min(1, max(-1, roundingCarry))
        guard mib != appliedMiBps else { return .keep }
        appliedMiBps = mib
        initialised = true
        return .cap(mebibytesPerSecond: mib, why: why)
    }

    static func words(_ bytes: Double) -> String { Format.bytes(bytes) }
}

extension IOFloorPacer.Settings {
    var floorRatio: Double { Double(floorPercent) / 100 }
    /// The floor and its headroom, never the guest's whole rate.
    var aimRatio: Double { min(0.99, floorRatio + Double(headroomPercent) / 100) }
}
