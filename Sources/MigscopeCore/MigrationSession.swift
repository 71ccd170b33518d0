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

    /// Pauses the guest so a live migration can finish (as a timeout does).
    func pauseGuest() throws

    func setMaxDowntime(milliseconds: UInt64) throws
    func setMaxSpeed(mebibytesPerSecond: UInt64) throws
    /// Lifts any cap on the stream.
    func releaseMaxSpeed() throws

    /// Switches a live migration to post-copy (the request asked for `postcopy`).
    func startPostcopy() throws

    /// Where the domain is now, asked of both hosts.
    func locate() -> DomainLocation

    /// The rounds exactly as the hypervisor reported them, on a clock that starts at `origin`;
    /// nil when it reports rounds only through `signals()` and `progress()` (as some backends do), which the
    /// recorder then turns into rounds itself.
    func hypervisorRounds(since origin: ContinuousClock.Instant) -> [RoundRecord]?
}

extension MigrationSession {
    public func hypervisorRounds(since origin: ContinuousClock.Instant) -> [RoundRecord]? { nil }
}

/// Cumulative guest disk counters at one moment (bytes and requests since the hypervisor started counting).
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

