import MigscopeCore

/// A lab failure: one line naming what failed and, where known, what to do.
public struct LabError: UserFacingError, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
