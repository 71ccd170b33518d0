import Foundation

/// How fast a guest dirties memory, as a function of the window it is watched over.
///
/// Over a short window the guest dirties distinct pages at `bytesPerSecond`; over longer ones it
/// keeps rewriting the same pages, so the dirtied set saturates at its writable working set.
/// Writes spread over a working set W cover it as 1 - e^(-x): dirtied(t) = W (1 - e^(-D t / W)),
/// which has slope D at first and tends to W. Without a working set the set grows linearly.
public struct DirtyingModel: Sendable, Equatable, Codable {
    public var bytesPerSecond: Double
    /// The most distinct memory the guest rewrites however long it is watched (nil: no limit seen).
    public var workingSetBytes: Double?

    /// Reads through the guest's page cache, which go on dirtying new pages long after the
    /// working set is covered (nil: the guest reads nothing, or past its cache).
    public var cacheFill: CacheFill?

    /// Each read through the page cache lands in a page taken from the free list, which reclaim
    /// refills with the oldest cached pages: the reads dirty distinct pages at their rate until
    /// they have gone round all the memory that is free or cached. A buffered reader at 10 Mbit/s
    /// left 49 MiB dirty at a pause 15 s into a 40 s round, its guest's free and cached memory
    /// about 50 MiB, where windows of 1 to 4 s saw 4 MiB.
    public struct CacheFill: Sendable, Equatable, Codable {
        public var bytesPerSecond: Double
        /// The memory free or cached that the reads cycle through.
        public var poolBytes: Double
        public init(bytesPerSecond: Double, poolBytes: Double) {
            self.bytesPerSecond = max(0, bytesPerSecond)
            self.poolBytes = max(0, poolBytes)
        }
    }

    public init(bytesPerSecond: Double, workingSetBytes: Double? = nil, cacheFill: CacheFill? = nil) {
        self.bytesPerSecond = max(0, bytesPerSecond)
        self.workingSetBytes = workingSetBytes.map { max(0, $0) }
        self.cacheFill = cacheFill
    }

    public static let none = DirtyingModel(bytesPerSecond: 0)

    /// Distinct bytes dirtied over `seconds`: the working set's cover, or the cache's fill where
    /// that is more.
    public func dirtied(over seconds: Double) -> Double {
        let t = max(0, seconds)
        let linear = bytesPerSecond * t
        let fill = cacheFill.map { min($0.bytesPerSecond * t, $0.poolBytes) } ?? 0
        guard let w = workingSetBytes else { return max(linear, fill) }
        guard w > 0 else { return fill }
        return max(w * (1 - exp(-linear / w)), fill)
    }

    /// One measurement: so many distinct bytes found dirtied over a window of so many seconds.
    public struct Window: Sendable, Equatable, Codable {
        public var seconds: Double
        public var bytes: Double
        public init(seconds: Double, bytes: Double) {
            self.seconds = seconds
            self.bytes = bytes
        }
    }

    /// The model that fits measured windows: linear when the dirtied set grows in proportion to
    /// the window (within 5 %), else saturating, W found by a search over log W minimising the
    /// squared relative error (D follows from the shortest window for each W). Nil without a
    /// usable window.
    public static func fit(_ windows: [Window]) -> DirtyingModel? {
        let w = windows.filter { $0.seconds > 0 && $0.bytes >= 0 && $0.seconds.isFinite && $0.bytes.isFinite }.sorted { $0.seconds < $1.seconds }
        guard let first = w.first else { return nil }
        let slopes = w.map { $0.bytes / $0.seconds }
        let meanSlope = slopes.reduce(0, +) / Double(slopes.count)
        guard w.count >= 2, meanSlope > 0 else { return DirtyingModel(bytesPerSecond: meanSlope) }
        if slopes.allSatisfy({ abs($0 - meanSlope) <= 0.05 * meanSlope }) { return DirtyingModel(bytesPerSecond: meanSlope) }
        let largest = w.map(\.bytes).max() ?? 0
        guard largest > 0, first.bytes > 0 else { return DirtyingModel(bytesPerSecond: meanSlope) }
        func model(_ logW: Double) -> DirtyingModel {
            let ws = exp(logW)
            let d = -ws / first.seconds * log(1 - min(first.bytes / ws, 1 - 1e-12))
            return DirtyingModel(bytesPerSecond: d, workingSetBytes: ws)
        }
        func error(_ logW: Double) -> Double {
            let m = model(logW)
            return w.reduce(0) { acc, x in
                let r = (m.dirtied(over: x.seconds) - x.bytes) / max(x.bytes, 1)
                return acc + r * r
            }
        }
        // Golden-section search of log W between just above the largest window and 1000x it.
        var lo = log(largest * 1.000001), hi = log(largest * 1000)
        let g = (sqrt(5) - 1) / 2
        var a = hi - g * (hi - lo), b = lo + g * (hi - lo)
        for _ in 0..<200 {
            if error(a) < error(b) { hi = b } else { lo = a }
            a = hi - g * (hi - lo)
            b = lo + g * (hi - lo)
        }
        return model((lo + hi) / 2)
    }
}

/// A pre-copy migration worked out before it starts: from the guest's memory, how it dirties
/// memory, the stream's rate and the rules that end pre-copy, the rounds it will take, what it
/// sends, how long it lasts and how long the guest stops. Pure arithmetic, no hypervisor.
///
/// Round 1 sends all of memory but its zero pages; each next round sends what the guest dirtied while the round
/// before was sent. Before each round the ending rules are asked, in the order the hypervisors
/// ask them; the stop-and-copy then sends what is left with the guest paused. Not modelled: the
/// stream's rate changing (a shared link whose other traffic varies), auto-converge's throttle,
/// compression and post-copy.
public enum PrecopyModel {
    /// What ends pre-copy by itself.
    public enum Convergence: Sendable, Equatable, Codable {
        /// QEMU: stop when what is left can be sent within the max downtime at the stream's rate.
        case qemu(maxDowntimeMs: Double)
        /// Xen's libxenguest (4.x): stop after `rounds` rounds or when fewer than `pages` are dirty.
        case libxenguest(rounds: Int, pages: Int)

        /// QEMU's default max downtime is 300 ms.
        public static let qemuDefault = Convergence.qemu(maxDowntimeMs: 300)
        /// libxenguest's save: 5 iterations, 50 dirty pages.
        public static let xen = Convergence.libxenguest(rounds: 5, pages: 50)
    }

    public struct Inputs: Sendable, Equatable, Codable {
        public var memoryBytes: Double
        public var pageBytes: Double
        public var dirtying: DirtyingModel
        /// What the migration stream moves per second.
        public var streamBytesPerSecond: Double
        public var live: Bool
        public var convergence: Convergence
        /// migscope's own rules: pause when round N + 1 would begin, a Xen-like stop policy, a timeout.
        public var pauseAfterRounds: Int?
        public var stopPolicy: StopPolicy?
        public var pauseAfterSeconds: Double?
        /// What every stop-and-copy costs besides the memory it sends (device state, switch-over).
        public var fixedDowntimeMs: Double
        /// What every stop-and-copy sends besides dirty memory (device state), at the stream's
        /// rate: an idle guest's downtime grew from 353 ms at 100 Mbit/s to 1364 ms at 10.
        public var switchoverBytes: Double
        /// Memory the guest never wrote: zero pages, which QEMU sends as a marker each, so the
        /// first round (or a non-live copy) sends only the rest. 0 when unknown.
        public var zeroBytes: Double
        /// What a migration between these hosts costs before memory moves and after it has (the
        /// connection, the destination's process, the switch-over), seconds. 0 when unknown.
        public var setupSeconds: Double

        public init(memoryBytes: Double, pageBytes: Double = 4096, dirtying: DirtyingModel, streamBytesPerSecond: Double, live: Bool = true,
                    convergence: Convergence = .qemuDefault, pauseAfterRounds: Int? = nil, stopPolicy: StopPolicy? = nil,
                    pauseAfterSeconds: Double? = nil, fixedDowntimeMs: Double = 0, switchoverBytes: Double = 0, zeroBytes: Double = 0, setupSeconds: Double = 0) {
            self.memoryBytes = memoryBytes
            self.pageBytes = pageBytes
            self.dirtying = dirtying
            self.streamBytesPerSecond = streamBytesPerSecond
            self.live = live
            self.convergence = convergence
            self.pauseAfterRounds = pauseAfterRounds
            self.stopPolicy = stopPolicy
            self.pauseAfterSeconds = pauseAfterSeconds
            self.fixedDowntimeMs = fixedDowntimeMs
            self.switchoverBytes = switchoverBytes
            self.zeroBytes = zeroBytes
            self.setupSeconds = setupSeconds
        }

        enum CodingKeys: String, CodingKey {
            case memoryBytes, pageBytes, dirtying, streamBytesPerSecond, live, convergence, pauseAfterRounds, stopPolicy, pauseAfterSeconds, fixedDowntimeMs, switchoverBytes, zeroBytes, setupSeconds
        }

        // Forecasts stored before zero pages were counted have no zeroBytes: they assumed none.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            memoryBytes = try c.decode(Double.self, forKey: .memoryBytes)
            pageBytes = try c.decode(Double.self, forKey: .pageBytes)
            dirtying = try c.decode(DirtyingModel.self, forKey: .dirtying)
            streamBytesPerSecond = try c.decode(Double.self, forKey: .streamBytesPerSecond)
            live = try c.decode(Bool.self, forKey: .live)
            convergence = try c.decode(Convergence.self, forKey: .convergence)
            pauseAfterRounds = try c.decodeIfPresent(Int.self, forKey: .pauseAfterRounds)
            stopPolicy = try c.decodeIfPresent(StopPolicy.self, forKey: .stopPolicy)
            pauseAfterSeconds = try c.decodeIfPresent(Double.self, forKey: .pauseAfterSeconds)
            fixedDowntimeMs = try c.decode(Double.self, forKey: .fixedDowntimeMs)
            switchoverBytes = try c.decodeIfPresent(Double.self, forKey: .switchoverBytes) ?? 0
            zeroBytes = try c.decodeIfPresent(Double.self, forKey: .zeroBytes) ?? 0
            setupSeconds = try c.decodeIfPresent(Double.self, forKey: .setupSeconds) ?? 0
        }
    }

    /// Why pre-copy ended (or would not).
    public enum Ending: Sendable, Equatable, Codable {
        /// The hypervisor's own test passed: what was left fit the max downtime (or libxenguest's threshold).
        case converged
        /// libxenguest's round limit.
        case hypervisorRoundLimit
        /// migscope's `--pause-after-rounds` or the stop policy's rounds or sent multiple.
        case stopRule(String)
        /// `--timeout`: the guest paused at that second, mid-round.
        case timeout
        /// Not a non-live migration: everything is sent with the guest paused.
        case nonLive
        /// Nothing would end it: pre-copy settles at `steadyRemainingBytes` per round, more than
        /// the max downtime allows.
        case neverConverges(steadyRemainingBytes: Double)
    }

    public struct Round: Sendable, Equatable, Codable {
        public var number: Int
        public var startSeconds: Double
        public var seconds: Double
        public var bytes: Double
        public var stopAndCopy: Bool
    }

    public struct Prediction: Sendable, Equatable, Codable {
        public var ending: Ending
        /// Every round, the stop-and-copy last (none when it never converges).
        public var rounds: [Round]
        public var bytesSent: Double
        /// Nil when it never ends.
        public var migrationSeconds: Double?
        public var downtimeMs: Double?
        /// Whether the migration ends at all (by itself or by a rule).
        public var completes: Bool { if case .neverConverges = ending { false } else { true } }
        /// Pre-copy rounds (not counting the stop-and-copy).
        public var precopyRounds: Int { rounds.filter { !$0.stopAndCopy }.count }
    }

    /// Whether converging by itself turns on the dirty rate within what measuring it can tell: the
    /// answer differs with the rate a quarter higher or a fifth lower. A reader bound by the same
    /// link as the stream dirties memory about as fast as the stream sends it, and which side of
    /// the line it falls is then not measurable (seen: a direct reader at 10 Mbit/s).
    public static func isCloseCall(_ x: Inputs, factor: Double = 1.25) -> Bool {
        guard x.live, x.dirtying.bytesPerSecond > 0 else { return false }
        func converges(_ scale: Double) -> Bool {
            var y = x
            y.dirtying.bytesPerSecond *= scale
            return predict(y).ending == .converged
        }
        let here = converges(1)
        return converges(factor) != here || converges(1 / factor) != here
    }

    /// Whether converging by itself differs under any of `alternatives`, the dirtying models the
    /// measurement could not rule out (page sampling's error on a guest caught in few windows).
    public static func isCloseCall(_ x: Inputs, alternatives: [DirtyingModel]) -> Bool {
        guard x.live else { return false }
        let here = predict(x).ending == .converged
        return alternatives.contains { m in
            var y = x
            y.dirtying = m
            return (predict(y).ending == .converged) != here
        }
    }

    /// What a stop that QEMU's own test began sends of memory anyway, counted in the fixed
    /// switch-over already. QEMU stops once what is pending, the unsent end of the pass it is on and
    /// what was dirtied since, fits the max downtime: an idle guest's stop sends that end (a direct
    /// reader's 3 MiB stop took 366 ms at 100 Mbit/s, an idle guest's 340-360 ms). A switch-over
    /// measured on idle guests (migscope-bench predict, --switchover-ms) holds that tail, at most the
    /// max downtime's worth; dirtied pages add to a stop only beyond it. A stop by a rule or a
    /// timeout comes mid-pass and sends all that is pending.
    static func tailBytes(_ x: Inputs, ending: Ending) -> Double {
        guard ending == .converged, case .qemu(let ms) = x.convergence else { return 0 }
        return max(0, x.streamBytesPerSecond) * min(ms, max(0, x.fixedDowntimeMs)) / 1000
    }

    /// Pre-copy is given up as never converging after this many rounds without an end in sight.
    static let roundCap = 100_000

    public static func predict(_ x: Inputs) -> Prediction {
        let r = max(x.streamBytesPerSecond, 1e-9)
        let memory = max(x.memoryBytes, 0)
        let written = max(0, memory - min(max(x.zeroBytes, 0), memory))
        func stop(_ rounds: [Round], at t: Double, left: Double, sent: Double, ending: Ending) -> Prediction {
            let copy = (left + max(0, x.switchoverBytes)) / r
            var all = rounds
            all.append(Round(number: rounds.count + 1, startSeconds: t, seconds: copy, bytes: left, stopAndCopy: true))
            return Prediction(ending: ending, rounds: all, bytesSent: sent + left + max(0, x.switchoverBytes), migrationSeconds: t + copy + max(0, x.setupSeconds),
                              downtimeMs: (max(0, left - tailBytes(x, ending: ending)) + max(0, x.switchoverBytes)) / r * 1000 + x.fixedDowntimeMs)
        }
        guard x.live else { return stop([], at: 0, left: written, sent: 0, ending: .nonLive) }

        var rounds: [Round] = []
        var remaining = written, sent = 0.0, t = 0.0
        var previous = Double.infinity
        var steadyFor = 0
        while rounds.count < roundCap {
            let done = rounds.count
            // The hypervisor's own test first, as QEMU asks it before each pass; then migscope's rules.
            switch x.convergence {
            case .qemu(let ms):
                if remaining <= r * ms / 1000 { return stop(rounds, at: t, left: remaining, sent: sent, ending: .converged) }
            case .libxenguest(let limit, let pages):
                if done > 0 && remaining < Double(pages) * x.pageBytes { return stop(rounds, at: t, left: remaining, sent: sent, ending: .converged) }
                if done >= limit { return stop(rounds, at: t, left: remaining, sent: sent, ending: .hypervisorRoundLimit) }
            }
            if let n = x.pauseAfterRounds, done >= n { return stop(rounds, at: t, left: remaining, sent: sent, ending: .stopRule("paused after \(n) rounds")) }
            if let p = x.stopPolicy {
                if let n = p.rounds, done >= n { return stop(rounds, at: t, left: remaining, sent: sent, ending: .stopRule("stop policy: \(n) rounds")) }
                if let k = p.sentMultiple, memory > 0, sent >= k * memory {
                    return stop(rounds, at: t, left: remaining, sent: sent, ending: .stopRule("stop policy: \(String(format: "%g", k))x memory sent"))
                }
            }
            let seconds = remaining / r
            if let limit = x.pauseAfterSeconds, t + seconds > limit {
                // Paused mid-round: the rest of this round and what was dirtied so far go in the stop-and-copy.
                let into = max(0, limit - t)
                let sentHere = r * into
                let left = min(memory, remaining - sentHere + x.dirtying.dirtied(over: into))
                if sentHere > 0 { rounds.append(Round(number: done + 1, startSeconds: t, seconds: into, bytes: sentHere, stopAndCopy: false)) }
                return stop(rounds, at: limit, left: left, sent: sent + sentHere, ending: .timeout)
            }
            rounds.append(Round(number: done + 1, startSeconds: t, seconds: seconds, bytes: remaining, stopAndCopy: false))
            sent += remaining
            t += seconds
            let next = min(memory, x.dirtying.dirtied(over: seconds))
            // A pre-copy whose rounds no longer shrink never ends by QEMU's test; only a rule
            // that counts rounds, bytes or seconds still could, so those go on being worked out.
            if next >= previous * 0.999 { steadyFor += 1 } else { steadyFor = 0 }
            previous = next
            remaining = next
            let aRuleWillEnd = x.pauseAfterRounds != nil || x.stopPolicy != nil || x.pauseAfterSeconds != nil
            if case .qemu = x.convergence, steadyFor >= 3, !aRuleWillEnd {
                return Prediction(ending: .neverConverges(steadyRemainingBytes: remaining), rounds: rounds, bytesSent: sent, migrationSeconds: nil, downtimeMs: nil)
            }
        }
        return Prediction(ending: .neverConverges(steadyRemainingBytes: remaining), rounds: rounds, bytesSent: sent, migrationSeconds: nil, downtimeMs: nil)
    }
}

/// A prediction as it is printed and stored with a run: what went in, the dirty rate measured,
/// and what came out.
public struct MigrationForecast: Sendable, Equatable, Codable {
    public var inputs: PrecopyModel.Inputs
    public var dirtyRate: DirtyRateMeasurement
    /// Where the stream's rate came from (the cap, the link given, the lab's link).
    public var streamRateFrom: String
    /// Where the estimate of never-written (zero) memory came from; nil: none, all of memory is sent.
    public var zeroBytesFrom: String?
    public var prediction: PrecopyModel.Prediction
    /// Whether converging by itself turns on the dirty rate within measuring error (nil in
    /// forecasts stored before it was asked).
    public var closeCall: Bool?
    /// Why it is a close call, one clause (nil when it is not, or in older forecasts).
    public var closeCallReason: String?

    public init(inputs: PrecopyModel.Inputs, dirtyRate: DirtyRateMeasurement, streamRateFrom: String, prediction: PrecopyModel.Prediction) {
        self.inputs = inputs
        self.dirtyRate = dirtyRate
        self.streamRateFrom = streamRateFrom
        self.prediction = prediction
        // Sampling's error only counts when the model came from the windows, not a rate given.
        let measured = dirtyRate.model == inputs.dirtying ? dirtyRate.modelsWithinSamplingError : []
        if PrecopyModel.isCloseCall(inputs, alternatives: measured) {
            let caught = dirtyRate.sampledPagesCaught.map { "\($0) sampled page\($0 == 1 ? "" : "s") in \(dirtyRate.windows.count) windows" } ?? "few pages"
            closeCallReason = "page sampling caught \(caught), too few to tell: within its error the answer differs (more windows, --repeat, narrow it)"
        } else if PrecopyModel.isCloseCall(inputs) {
            closeCallReason = "with the dirty rate a quarter higher or a fifth lower the answer differs (the guest dirties memory about as fast as the stream sends it)"
        }
        closeCall = closeCallReason != nil
    }
}

/// Why a prediction could not be made (the dirty rate could not be measured, the stream's rate is unknown).
public struct ForecastFailure: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
