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
