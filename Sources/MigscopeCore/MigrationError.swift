/// A failure a user can act on: one line that names the problem and the fix, and the exit status
/// the command line ends with. Every error meant for people conforms; the CLI maps them in one place.
public protocol UserFacingError: Error, CustomStringConvertible {
    var message: String { get }
    /// 1 for a runtime failure (the default), 2 for bad input, 130 for an interruption.
    var exitStatus: Int32 { get }
}

extension UserFacingError {
    public var exitStatus: Int32 { 1 }
    public var description: String { message }
}

/// A migration failure a user can act on: what went wrong, in one line, and where the VM is.
public struct MigrationError: UserFacingError, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// A host cannot be reached or refused the connection.
        case unreachable
        /// No such domain on the source.
        case noSuchDomain
        /// The domain exists but cannot be migrated now (not running, ...).
        case notMigratable
        /// The hypervisor refused or failed the migration.
        case failed
        /// The migration was aborted (by the user, a timeout, or Ctrl-C).
        case aborted
        /// The backend cannot do this at all.
        case unsupported
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

