/// When a migration counts as stalled, and what migscope then does, as KubeVirt does it: no new low
/// of the memory remaining for `progressTimeoutSeconds`, or longer than `completionSecondsPerGiB`
/// for each GiB of the guest's memory.
public struct StallLimits: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Action: String, Sendable, Equatable, Codable, CaseIterable {
        /// Abort: the guest stays on the source (KubeVirt's choice).
        case abort
        /// Pause the guest so the migration ends by stop-and-copy.
        case pause
    }
    public var progressTimeoutSeconds: Double?
    public var completionSecondsPerGiB: Double?
    public var action: Action

    /// Seconds: one to a day.
    public static let range: ClosedRange<Double> = 1...86_400

    public init(progressTimeoutSeconds: Double? = nil, completionSecondsPerGiB: Double? = nil, action: Action = .abort) {
        self.progressTimeoutSeconds = progressTimeoutSeconds
        self.completionSecondsPerGiB = completionSecondsPerGiB
        self.action = action
    }

    public var description: String {
        var w: [String] = []
        if let p = progressTimeoutSeconds { w.append("progress timeout \(Format.seconds(p))") }
        if let c = completionSecondsPerGiB { w.append("completion timeout \(Format.seconds(c)) per GiB") }
        return w.joined(separator: ", ") + ", then \(action.rawValue)"
    }

    public var problems: [RequestProblem] {
        var found: [RequestProblem] = []
        if progressTimeoutSeconds == nil && completionSecondsPerGiB == nil {
            found.append(.init(field: "on-stall", message: "--on-stall needs --progress-timeout or --completion-timeout-per-gib"))
        }
        for (flag, v) in [("--progress-timeout", progressTimeoutSeconds), ("--completion-timeout-per-gib", completionSecondsPerGiB)] {
            if let v, !(v.isFinite && Self.range.contains(v)) {
                found.append(.init(field: String(flag.dropFirst(2)), message: "\(flag) must be 1 to 86400 seconds, got \(v)"))
            }
        }
        return found
    }
}

/// Watches a migration's job for a stall. Pure: fed the job's polls with their times.
public struct StallWatch: Sendable {
    public enum Stall: Sendable, Equatable, CustomStringConvertible {
        /// The memory remaining reached no new low for this long.
        case noProgress(seconds: Double, lowestRemaining: UInt64)
        /// The migration ran longer than its limit for this much memory.
        case tooLong(limitSeconds: Double, memoryGiB: Double)

        public var description: String {
            switch self {
            case .noProgress(let s, let low):
                "no progress for \(Format.seconds(s)) (memory remaining never went below \(Format.bytes(low)))"
            case .tooLong(let limit, let gib):
                "not complete within \(Format.seconds(limit)) (\(String(format: "%.2f", gib)) GiB of memory)"
            }
        }
    }

    public let limits: StallLimits
    private var lowest: UInt64?
    private var lowestAt: Double?
    private var reported = false

    public init(limits: StallLimits) { self.limits = limits }

    /// The stall `p`, polled `t` seconds after the start, shows, once; nil until then and after.
    public mutating func observe(_ p: JobProgress, at t: Double) -> Stall? {
        guard !reported else { return nil }
        if let remaining = p.dataRemainingBytes ?? p.memoryRemainingBytes, (p.memoryTotalBytes ?? 0) > 0 {
            if lowest == nil || remaining < lowest! { lowest = remaining; lowestAt = t }
        }
        if let timeout = limits.progressTimeoutSeconds, let low = lowest, let since = lowestAt, t - since >= timeout {
            reported = true
            return .noProgress(seconds: t - since, lowestRemaining: low)
        }
        if let perGiB = limits.completionSecondsPerGiB, let total = p.memoryTotalBytes, total > 0 {
            let gib = Double(total) / 1_073_741_824
            // At least one GiB's worth: a small guest is not cut short by its setup time.
            let limit = perGiB * max(1, gib)
            if t >= limit {
                reported = true
                return .tooLong(limitSeconds: limit, memoryGiB: gib)
            }
        }
        return nil
    }
}
