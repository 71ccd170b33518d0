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

