/// What a hypervisor backend (libvirt, libxl, ...) must offer migscope.
///
/// A backend translates its C world into these core values; nothing downstream sees C.
public protocol MigrationBackend: Sendable {
    /// A short name for messages and stored runs, e.g. "libvirt" or "libxl".
    var name: String { get }

    /// Checks the request against the real hosts (reachable, domain exists and runs) and sets up
    /// the migration without starting it. Errors are `MigrationError`s that a user can act on.
    func prepare(_ request: MigrationRequest) async throws -> any MigrationSession
}

/// One prepared migration of one domain. Thread-safe: progress is polled while `run()` awaits.
public protocol MigrationSession: AnyObject, Sendable {
    var request: MigrationRequest { get }

    /// Facts about the domain learned while preparing (memory size, disks...).
    var domainFacts: DomainFacts { get }

    /// Signals from the hypervisor (rounds, pause, resume, completion) as they happen.
    /// Must be subscribed before `run()`, so the first round is not missed.
    func signals() throws -> AsyncStream<MigrationSignal>

    /// Runs the migration to its end (completion or failure). Throws `MigrationError`.
    func run() async throws

    /// The running job's figures now; nil when no job runs.
    func progress() throws -> JobProgress?

    /// The finished job's figures (downtime, bytes, rounds), when the hypervisor keeps them.
    func completedProgress() throws -> JobProgress?

    /// Cumulative I/O counters of the guest's disks as the hypervisor on `host` counts them;
    /// nil when the domain does not run there (yet, or any more).
    func guestIO(on host: HostRole) throws -> GuestIOCounters?

    /// Stops the running migration; the guest stays on the source.
    func abort() throws

    /// Pauses the guest so a live migration can finish (`virsh migrate --timeout`).
    func pauseGuest() throws

    func setMaxDowntime(milliseconds: UInt64) throws
    func setMaxSpeed(mebibytesPerSecond: UInt64) throws

    /// Where the domain is now, asked of both hosts.
    func locate() -> DomainLocation

    /// The rounds exactly as the hypervisor reported them, on a clock that starts at `origin`;
    /// nil when it reports rounds only through `signals()` and `progress()` (libvirt), which the
    /// recorder then turns into rounds itself.
    func hypervisorRounds(since origin: ContinuousClock.Instant) -> [RoundRecord]?
}

extension MigrationSession {
    public func hypervisorRounds(since origin: ContinuousClock.Instant) -> [RoundRecord]? { nil }
}

/// What a backend learned about the domain before migrating it.
public struct DomainFacts: Sendable, Equatable, Codable {
    public var name: String
    public var uuid: String
    public var memoryBytes: UInt64?
    public var virtualCPUs: Int?
    public var disks: [String]
    public init(name: String, uuid: String, memoryBytes: UInt64? = nil, virtualCPUs: Int? = nil, disks: [String] = []) {
        self.name = name
        self.uuid = uuid
        self.memoryBytes = memoryBytes
        self.virtualCPUs = virtualCPUs
        self.disks = disks
    }
}

/// Something the hypervisor told us during a migration, stamped on arrival.
public struct MigrationSignal: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A pre-copy round began (hypervisor's own round number).
        case roundStarted(UInt64)
        /// The guest was paused on `host` for the final copy (or the whole copy, non-live).
        case guestPaused(host: HostRole)
        /// The guest runs on `host` again.
        case guestResumed(host: HostRole)
        /// The domain appeared on the destination.
        case startedOnDestination
        /// The domain left the source.
        case stoppedOnSource
        /// The job finished; its final figures.
        case jobCompleted(JobProgress)
        /// Any other state change, in the hypervisor's words.
        case other(host: HostRole, String)
    }
    public var kind: Kind
    public var at: ContinuousClock.Instant
    public init(_ kind: Kind, at: ContinuousClock.Instant) {
        self.kind = kind
        self.at = at
    }
}

public enum HostRole: String, Sendable, Codable, Equatable {
    case source, destination
}

/// Cumulative guest disk counters at one moment (bytes and requests since the QEMU process started).
public struct GuestIOCounters: Sendable, Equatable {
    public var host: HostRole
    public var readBytes: UInt64
    public var writeBytes: UInt64
    public var readOps: UInt64
    public var writeOps: UInt64
    public init(host: HostRole, readBytes: UInt64, writeBytes: UInt64, readOps: UInt64, writeOps: UInt64) {
        self.host = host
        self.readBytes = readBytes
        self.writeBytes = writeBytes
        self.readOps = readOps
        self.writeOps = writeOps
    }
}

/// Where a domain runs, as both hosts answer.
public struct DomainLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Place: Sendable, Equatable {
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

/// A migration failure a user can act on: what went wrong, in one line, and where the VM is.
public struct MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
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
    public var description: String { message }
}

/// One domain as a host lists it.
public struct DomainListing: Sendable, Equatable, Codable {
    public var name: String
    public var uuid: String
    public var id: Int?
    public var state: String
    public var memoryBytes: UInt64
    public var virtualCPUs: Int
    public var persistent: Bool
    public init(name: String, uuid: String, id: Int?, state: String, memoryBytes: UInt64, virtualCPUs: Int, persistent: Bool) {
        self.name = name
        self.uuid = uuid
        self.id = id
        self.state = state
        self.memoryBytes = memoryBytes
        self.virtualCPUs = virtualCPUs
        self.persistent = persistent
    }
}
