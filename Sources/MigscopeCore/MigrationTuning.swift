import Foundation

/// The ways a migration can be tuned to cost the guest less (or to end at all), each written as
/// a user writes it on the command line or in a plan, parsed here once for both.

/// Throttle the guest's CPUs when pre-copy does not converge (QEMU's auto-converge).
public struct AutoConverge: Sendable, Equatable, Codable {
    /// The first throttle, percent of CPU time taken away (the hypervisor's default when nil).
    public var initialPercent: Int?
    /// How much more each time pre-copy still does not converge.
    public var incrementPercent: Int?
    public init(initialPercent: Int? = nil, incrementPercent: Int? = nil) {
        self.initialPercent = initialPercent
        self.incrementPercent = incrementPercent
    }
}

/// When a live migration switches to post-copy: the guest then runs on the destination and
/// fetches the pages it still lacks on demand.
public enum PostcopyTrigger: Sendable, Equatable, Codable, CustomStringConvertible {
    /// This many seconds after the migration starts.
    case afterSeconds(Double)
    /// When pre-copy round N + 1 begins (after N full rounds).
    case afterRound(Int)

    /// "SECONDS" or "round:N".
    public init(parsing text: String) throws(TuningSyntaxError) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasPrefix("round:") {
            guard let n = Int(t.dropFirst(6)), RequestLimits.rounds.contains(n) else {
                throw TuningSyntaxError("'\(text)' is not a round: write round:N with N from 1 to 1000")
            }
            self = .afterRound(n)
        } else {
            guard let s = Double(t), RequestLimits.seconds.contains(s) else {
                throw TuningSyntaxError("'\(text)' is neither seconds nor round:N; write e.g. 20 or round:1")
            }
            self = .afterSeconds(s)
        }
    }

    public var description: String {
        switch self {
        case .afterSeconds(let s): Format.seconds(s)
        case .afterRound(let n): "round:\(n)"
        }
    }
}

/// How memory is compressed on the way.
public enum MigrationCompression: String, Sendable, Equatable, Codable, CaseIterable {
    /// Sends only what changed in pages sent before (a cache of them on the source).
    case xbzrle
    /// Compression threads (zlib), QEMU's "compress" capability.
    case mt
}

/// A pre-copy that gives up the way Xen's does: after so many rounds or once it has sent so many
/// times the guest's memory, the guest is paused for the final copy. Makes the paper's
/// live-migration shape reproducible on a hypervisor whose pre-copy never gives up by itself.
public struct StopPolicy: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Pause when round `rounds + 1` would begin.
    public var rounds: Int?
    /// Pause once the stream has sent this multiple of the guest's memory.
    public var sentMultiple: Double?

    public init(rounds: Int? = nil, sentMultiple: Double? = nil) {
        self.rounds = rounds
        self.sentMultiple = sentMultiple
    }

    /// Xen 3.x's libxc: 30 iterations or three times memory sent.
    public static let xen3 = StopPolicy(rounds: 30, sentMultiple: 3)

    /// "rounds=30,sent=3x" (either part alone, in any order), or "xen".
    public init(parsing text: String) throws(TuningSyntaxError) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "xen" {
            self = .xen3
            return
        }
        var policy = StopPolicy()
        for part in t.split(separator: ",", omittingEmptySubsequences: false) {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { throw TuningSyntaxError("'\(text)': write rounds=N,sent=Mx (e.g. rounds=30,sent=3x) or xen") }
            switch kv[0] {
            case "rounds":
                guard let n = Int(kv[1]), RequestLimits.rounds.contains(n) else {
                    throw TuningSyntaxError("rounds must be a whole number from 1 to 1000, got '\(kv[1])'")
                }
                policy.rounds = n
            case "sent":
                let v = kv[1].hasSuffix("x") ? String(kv[1].dropLast()) : kv[1]
                guard let m = Double(v), m.isFinite, (1...100).contains(m) else {
                    throw TuningSyntaxError("sent must be a multiple of memory from 1x to 100x, got '\(kv[1])'")
                }
                policy.sentMultiple = m
            default:
                throw TuningSyntaxError("unknown part '\(kv[0])' in '\(text)'; the parts are rounds=N and sent=Mx")
            }
        }
        guard policy.rounds != nil || policy.sentMultiple != nil else {
            throw TuningSyntaxError("'\(text)': write rounds=N,sent=Mx (e.g. rounds=30,sent=3x) or xen")
        }
        self = policy
    }

    public var description: String {
        var parts: [String] = []
        if let rounds { parts.append("rounds=\(rounds)") }
        if let sentMultiple { parts.append("sent=\(NumberWords.plain(sentMultiple))x") }
        return parts.joined(separator: ",")
    }
}

/// Raise the max downtime in steps while pre-copy runs, as OpenStack Nova does: step i of N (from 1)
/// sets max * i / N, `delaySeconds` after the previous one; the first at the start.
public struct DowntimeSteps: Sendable, Equatable, Codable, CustomStringConvertible {
    public var maxMs: UInt64
    public var steps: Int
    public var delaySeconds: Double

    public init(maxMs: UInt64, steps: Int, delaySeconds: Double) {
        self.maxMs = maxMs
        self.steps = steps
        self.delaySeconds = delaySeconds
    }

    /// "max=MS,steps=N,delay=S".
    public init(parsing text: String) throws(TuningSyntaxError) {
        var found: [String: String] = [:]
        for part in text.lowercased().split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, ["max", "steps", "delay"].contains(kv[0]) else {
                throw TuningSyntaxError("'\(text)': write max=MS,steps=N,delay=S (e.g. max=500,steps=5,delay=10)")
            }
            found[kv[0]] = kv[1]
        }
        guard let maxMs = found["max"].flatMap(UInt64.init), RequestLimits.maxDowntimeMs.contains(maxMs) else {
            throw TuningSyntaxError("max must be 1 to \(RequestLimits.maxDowntimeMs.upperBound) milliseconds in '\(text)'")
        }
        guard let steps = found["steps"].flatMap(Int.init), (1...100).contains(steps) else {
            throw TuningSyntaxError("steps must be a whole number from 1 to 100 in '\(text)'")
        }
        guard let delay = found["delay"].flatMap(Double.init), RequestLimits.seconds.contains(delay) else {
            throw TuningSyntaxError("delay must be a positive number of seconds in '\(text)'")
        }
        self.init(maxMs: maxMs, steps: steps, delaySeconds: delay)
    }

    /// The max downtime step `i` (1...steps) sets.
    public func downtimeMs(step i: Int) -> UInt64 {
        max(1, maxMs * UInt64(min(max(i, 1), steps)) / UInt64(steps))
    }

    public var description: String { "max=\(maxMs),steps=\(steps),delay=\(NumberWords.plain(delaySeconds))" }
}

/// Text that does not say a tuning option's value; the caller adds the option's name.
public struct TuningSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

extension MigrationRequest {
    /// What the request does to cost the guest less, in words: "none", or e.g. "cap 6 MiB/s, auto-converge".
    public var tuningWords: String {
        var w: [String] = []
        if let b = bandwidthMiBps { w.append("cap \(b) MiB/s") }
        if let f = ioFloorPercent { w.append("io-floor \(f) %") }
        if let a = autoConverge {
            w.append("auto-converge" + (a.initialPercent.map { " initial \($0) %" } ?? "") + (a.incrementPercent.map { " +\($0) %" } ?? ""))
        }
        if let p = postcopy { w.append("postcopy after \(p)") }
        if let n = parallelConnections { w.append("parallel \(n)") }
        if let c = compression { w.append("compress \(c.rawValue)") }
        if let s = stopPolicy { w.append("stop-after \(s)") }
        if let d = downtimeSteps { w.append("downtime-steps \(d)") }
        return w.isEmpty ? "none" : w.joined(separator: ", ")
    }
}
