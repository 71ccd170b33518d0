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

/// The two ends of a migration; the raw values name them in stored samples and events.
public enum HostRole: String, Sendable, Codable, Equatable {
    case source, destination
}

