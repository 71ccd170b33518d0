import MigscopeCore

/// A batch that cannot go on: what stopped it and what to do.
public struct BatchError: UserFacingError, Sendable {
    public var message: String
    /// Neither --keep-going nor --retries goes past it (a guest that cannot be brought back, a
    /// database that cannot be written).
    public var stopsTheBatch: Bool
    public init(_ message: String, stopsTheBatch: Bool = false) {
        self.message = message
        self.stopsTheBatch = stopsTheBatch
    }
}
