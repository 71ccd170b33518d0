/// One look at a running (or finished) migration job, backend-neutral.
///
/// Every field is optional: hypervisors report different subsets (some report only elapsed time, others
/// nearly everything), and a missing figure must stay missing rather than become zero.
public struct JobProgress: Sendable, Equatable, Codable {
    /// Pre-copy round number as the hypervisor counts it (some count dirty-bitmap syncs, starting at 1).
    public var iteration: UInt64?
    public var dirtyRatePagesPerSecond: UInt64?
    public var pageSizeBytes: UInt64?
    public var memoryTotalBytes: UInt64?
    public var memoryProcessedBytes: UInt64?
    public var memoryRemainingBytes: UInt64?
    /// Rate of the memory stream, bytes/s, as the hypervisor measured it.
    public var memoryBytesPerSecond: UInt64?
    public var dataTotalBytes: UInt64?
    public var dataProcessedBytes: UInt64?
    public var dataRemainingBytes: UInt64?
    public var downtimeMs: UInt64?
    public var expectedDowntimeMs: UInt64?
    public var setupTimeMs: UInt64?
    public var timeElapsedMs: UInt64?
    /// CPU time auto-converge takes from the guest now, percent.
    public var cpuThrottlePercent: UInt64?
    /// Pages the destination has asked for since post-copy began.
    public var postcopyRequests: UInt64?
    /// The cap on the stream in effect when this look was taken, as migscope set it (the pacer's
    /// series); nil when migscope set none.
    public var speedCapBytesPerSecond: UInt64?

    public init(
        iteration: UInt64? = nil, dirtyRatePagesPerSecond: UInt64? = nil, pageSizeBytes: UInt64? = nil,
        memoryTotalBytes: UInt64? = nil, memoryProcessedBytes: UInt64? = nil,
        memoryRemainingBytes: UInt64? = nil, memoryBytesPerSecond: UInt64? = nil,
        dataTotalBytes: UInt64? = nil, dataProcessedBytes: UInt64? = nil, dataRemainingBytes: UInt64? = nil,
        downtimeMs: UInt64? = nil, expectedDowntimeMs: UInt64? = nil, setupTimeMs: UInt64? = nil,
        timeElapsedMs: UInt64? = nil, cpuThrottlePercent: UInt64? = nil, postcopyRequests: UInt64? = nil,
        speedCapBytesPerSecond: UInt64? = nil
    ) {
        self.iteration = iteration
        self.dirtyRatePagesPerSecond = dirtyRatePagesPerSecond
        self.pageSizeBytes = pageSizeBytes
        self.memoryTotalBytes = memoryTotalBytes
        self.memoryProcessedBytes = memoryProcessedBytes
        self.memoryRemainingBytes = memoryRemainingBytes
        self.memoryBytesPerSecond = memoryBytesPerSecond
        self.dataTotalBytes = dataTotalBytes
        self.dataProcessedBytes = dataProcessedBytes
        self.dataRemainingBytes = dataRemainingBytes
        self.downtimeMs = downtimeMs
        self.expectedDowntimeMs = expectedDowntimeMs
        self.setupTimeMs = setupTimeMs
        self.timeElapsedMs = timeElapsedMs
        self.cpuThrottlePercent = cpuThrottlePercent
        self.postcopyRequests = postcopyRequests
        self.speedCapBytesPerSecond = speedCapBytesPerSecond
    }

    /// Dirty rate in bytes/s, when both the page rate and the page size are known.
    public var dirtyRateBytesPerSecond: UInt64? {
        guard let r = dirtyRatePagesPerSecond, let p = pageSizeBytes else { return nil }
        return r * p
    }

    /// Share of memory already sent, 0...1, when the hypervisor says how much there is.
    public var fractionDone: Double? {
        guard let total = memoryTotalBytes, total > 0, let remaining = memoryRemainingBytes else { return nil }
        return min(1, max(0, 1 - Double(remaining) / Double(total)))
    }
}
