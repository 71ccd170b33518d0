/// What a hypervisor backend must offer migscope.
///
/// A backend translates its C world into these core values; nothing downstream sees C.
public protocol MigrationBackend: Sendable {
    /// What it can do, and its name for messages and stored runs.
    var capabilities: BackendCapabilities { get }

    /// Checks the request against the real hosts (reachable, domain exists and runs) and sets up
    /// the migration without starting it. Errors are `MigrationError`s that a user can act on.
    func prepare(_ request: MigrationRequest) async throws -> any MigrationSession
}

extension MigrationBackend {
    public var name: String { capabilities.name }
}

