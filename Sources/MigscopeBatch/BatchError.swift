import MigscopeCore

/// A batch that cannot go on: what stopped it and what to do.
public struct BatchError: UserFacingError, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
