/// Where a run stands: recording while it runs, then how its migration ended. The raw values are
/// what the results database holds.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    /// Still being recorded, or (found so later) the recorder died: the run is incomplete.
    case recording
    case completed
    case failed
    case aborted

    /// As people see it: a run left "recording" is incomplete.
    public var shown: String { self == .recording ? "incomplete" : rawValue }

    /// Summaries written before this type existed say "incomplete" for a run without an outcome.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let s = RunStatus(rawValue: text == "incomplete" ? "recording" : text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown run status '\(text)'"))
        }
        self = s
    }
}

/// Why a migration was aborted.
public enum AbortReason: Sendable, Equatable, CustomStringConvertible {
    /// The user interrupted (Ctrl-C, SIGTERM, SIGHUP).
    case interrupted
    /// Interrupted during the baseline, before the migration was started.
    case interruptedBeforeStart
    /// `--abort-after`: the time limit was reached.
    case timeLimit(seconds: Double)
    /// The hypervisor ended the job as aborted, in its words.
    case byHypervisor(String)

    public var description: String {
        switch self {
        case .interrupted: "interrupted"
        case .interruptedBeforeStart: "interrupted before the migration started"
        case .timeLimit(let s): "aborted after \(Format.seconds(s)) (--abort-after)"
        case .byHypervisor(let m): m
        }
    }

    public var isInterruption: Bool { self == .interrupted || self == .interruptedBeforeStart }
}
