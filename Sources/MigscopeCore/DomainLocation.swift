/// Where a domain runs, as both hosts answer.
public struct DomainLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Place: String, Sendable, Equatable, Codable {
        case source, destination, both, nowhere, unknown
    }
    public var place: Place
    public var sourceURI: String
    public var destinationURI: String
    /// State on the host it runs on, e.g. "running" or "paused".
    public var state: String?
    /// Why the answer is unknown (a host did not answer), when it is.
    public var note: String?

    public init(place: Place, sourceURI: String, destinationURI: String, state: String? = nil, note: String? = nil) {
        self.place = place
        self.sourceURI = sourceURI
        self.destinationURI = destinationURI
        self.state = state
        self.note = note
    }

    public var description: String {
        let s = state.map { " (\($0))" } ?? ""
        switch place {
        case .source: return "on the source, \(sourceURI)\(s)"
        case .destination: return "on the destination, \(destinationURI)\(s)"
        case .both: return "on both hosts (\(sourceURI) and \(destinationURI)); check which one is running"
        case .nowhere: return "on neither \(sourceURI) nor \(destinationURI)"
        case .unknown: return "unknown" + (note.map { ": \($0)" } ?? "")
        }
    }
}

