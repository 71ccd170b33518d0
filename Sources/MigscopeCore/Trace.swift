import Foundation

// What one recorded run holds, as plain values. Times are seconds on the run's own monotonic
// clock (t = 0 when recording began); `RunInfo.anchor` ties that clock to wall time.

/// One pre-copy round (or the final stop-and-copy round).
public struct RoundRecord: Sendable, Equatable, Codable {
    public var number: Int
    public var startS: Double
    public var endS: Double
    /// Memory bytes sent during the round.
    public var bytesSent: UInt64
    /// The hypervisor's dirty rate while the round ran, pages/s (nil where it reports none).
    public var dirtyPagesPerSecond: UInt64?
    public var dirtyBytesPerSecond: UInt64?
    /// Memory still to send when the round began: what the previous round left dirty.
    public var remainingBytesAtStart: UInt64?
    public var remainingBytesAtEnd: UInt64?
    /// Pages the guest dirtied while this round ran: what the next round had to send.
    public var pagesDirtied: UInt64?
    /// Bytes/s over the round.
    public var transferBytesPerSecond: Double
    /// The guest was paused: the final copy (or, non-live, the whole migration).
    public var stopAndCopy: Bool

    public init(number: Int, startS: Double, endS: Double, bytesSent: UInt64, dirtyPagesPerSecond: UInt64?, dirtyBytesPerSecond: UInt64?,
                remainingBytesAtStart: UInt64?, remainingBytesAtEnd: UInt64?, pagesDirtied: UInt64? = nil, transferBytesPerSecond: Double, stopAndCopy: Bool) {
        self.pagesDirtied = pagesDirtied
        self.number = number
        self.startS = startS
        self.endS = endS
        self.bytesSent = bytesSent
        self.dirtyPagesPerSecond = dirtyPagesPerSecond
        self.dirtyBytesPerSecond = dirtyBytesPerSecond
        self.remainingBytesAtStart = remainingBytesAtStart
        self.remainingBytesAtEnd = remainingBytesAtEnd
        self.transferBytesPerSecond = transferBytesPerSecond
        self.stopAndCopy = stopAndCopy
    }
}

/// One poll of the migration job.
public struct JobSample: Sendable, Equatable, Codable {
    public var t: Double
    public var progress: JobProgress
    public init(t: Double, progress: JobProgress) {
        self.t = t
        self.progress = progress
    }
}

/// One measurement of the guest's I/O rate.
public struct IOSample: Sendable, Equatable, Codable {
    public enum Series: String, Sendable, Codable, CaseIterable {
        /// The hypervisor's block counters of the guest's disks, one continuous series across hosts.
        case host
        /// The guest's own rate lines (measured inside the VM).
        case guest
    }
    public var t: Double
    public var series: Series
    /// Where the figure came from: a host role's raw value for the hypervisors' counters,
    /// `IOSample.guestOrigin` for the guest's own lines.
    public var host: String
    /// The host the figure came from, when it came from one.
    public var role: HostRole? { HostRole(rawValue: host) }
    public static let guestOrigin = "guest"
    public var readBytesPerSecond: Double
    public var writeBytesPerSecond: Double
    public var readOpsPerSecond: Double?
    public var writeOpsPerSecond: Double?

    public init(t: Double, series: Series, host: String, readBytesPerSecond: Double, writeBytesPerSecond: Double,
                readOpsPerSecond: Double? = nil, writeOpsPerSecond: Double? = nil) {
        self.t = t
        self.series = series
        self.host = host
        self.readBytesPerSecond = readBytesPerSecond
        self.writeBytesPerSecond = writeBytesPerSecond
        self.readOpsPerSecond = readOpsPerSecond
        self.writeOpsPerSecond = writeOpsPerSecond
    }
}

/// Bytes/s on one link in one direction, as the link's own counters saw it.
public struct LinkSample: Sendable, Equatable, Codable {
    public enum Direction: String, Sendable, Codable {
        /// What the machine sent (host A: the migration stream).
        case sent
        /// What it received (host A: the guest's iSCSI reads).
        case received
    }
    public var t: Double
    public var link: String
    public var direction: Direction
    public var bytesPerSecond: Double
    public init(t: Double, link: String, direction: Direction, bytesPerSecond: Double) {
        self.t = t
        self.link = link
        self.direction = direction
        self.bytesPerSecond = bytesPerSecond
    }
}

/// Everything measured in one run, in memory (the store holds the same, written as it arrives).
public struct Trace: Sendable, Equatable, Codable {
    public var rounds: [RoundRecord] = []
    public var jobSamples: [JobSample] = []
    public var samples: [IOSample] = []
    public var links: [LinkSample] = []
    public var events: [EventRecord] = []
    public init() {}

    public func firstEvent(_ kind: EventRecord.Kind) -> EventRecord? { events.first { $0.kind == kind } }
    public func lastEvent(_ kind: EventRecord.Kind) -> EventRecord? { events.last { $0.kind == kind } }
}
