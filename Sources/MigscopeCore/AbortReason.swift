/// Why a migration was aborted.
public enum AbortReason: Sendable, Equatable, CustomStringConvertible {
    /// The user interrupted (Ctrl-C, SIGTERM, SIGHUP).
    case interrupted
    /// Interrupted during the baseline, before the migration was started.
    case interruptedBeforeStart
    /// `--abort-after`: the time limit was reached.
    case timeLimit(seconds: Double)
    /// The migration stalled (`--progress-timeout`, `--completion-timeout-per-gib`), as said.
    case stalled(String)
    /// The hypervisor ended the job as aborted, in its words.
    case byHypervisor(String)

    public var description: String {
        switch self {
        case .interrupted: "interrupted"
        case .interruptedBeforeStart: "interrupted before the migration started"
        case .timeLimit(let s): "aborted after \(Format.seconds(s)) (--abort-after)"
        case .stalled(let why): "aborted: \(why)"
        case .byHypervisor(let m): m
        }
    }

    public var isInterruption: Bool { self == .interrupted || self == .interruptedBeforeStart }
}
