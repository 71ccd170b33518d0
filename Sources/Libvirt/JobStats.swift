import CLibvirt

/// A migration (or other) job's statistics, from `virDomainGetJobStats` or a JOB_COMPLETED event.
///
/// Missing keys stay nil (drivers report different subsets); keys this binding does not know are
/// kept in `other`, so nothing libvirt said is lost.
public struct JobStats: Sendable, Equatable {
    /// The job's type (`virDomainJobType`): none, bounded, unbounded, completed, failed, cancelled.
    public enum JobType: Int32, Sendable {
        case none = 0, bounded = 1, unbounded = 2, completed = 3, failed = 4, cancelled = 5
    }
    /// What kind of job runs (`virDomainJobOperation`). A struct: libvirt adds operations, and one
    /// this binding does not name is still carried, by its value.
    public struct Operation: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        init(_ c: virDomainJobOperation) { rawValue = UInt64(c.rawValue) }
        /// The corresponding C constant is VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN.
        public static let migrationIn = Operation(VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN)
        /// The corresponding C constant is VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT.
        public static let migrationOut = Operation(VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
    }
    public var type: JobType?
    /// The job's operation as libvirt numbers it (`VIR_DOMAIN_JOB_OPERATION`); see `jobOperation`.
    public var operation: UInt64?
    public var jobOperation: Operation? { operation.map(Operation.init(rawValue:)) }
    /// A job runs now (as opposed to none, or the figures of one that ended).
    public var isRunning: Bool { type == .bounded || type == .unbounded }
    public var timeElapsed: UInt64?
    public var timeRemaining: UInt64?
    public var downtime: UInt64?
    public var setupTime: UInt64?
    public var dataTotal: UInt64?
    public var dataProcessed: UInt64?
    public var dataRemaining: UInt64?
    public var memoryTotal: UInt64?
    public var memoryProcessed: UInt64?
    public var memoryRemaining: UInt64?
    public var memoryConstant: UInt64?
    public var memoryNormal: UInt64?
    public var memoryNormalBytes: UInt64?
    public var memoryBps: UInt64?
    public var memoryDirtyRate: UInt64?
    public var memoryPageSize: UInt64?
    public var memoryIteration: UInt64?
    public var memoryPostcopyRequests: UInt64?
    public var diskTotal: UInt64?
    public var diskProcessed: UInt64?
    public var diskRemaining: UInt64?
    public var diskBps: UInt64?
    public var autoConvergeThrottle: UInt64?
    /// Downtime / elapsed time without the time the hosts' clocks need to be compared (ms).
    public var downtimeNet: UInt64?
    public var timeElapsedNet: UInt64?
    /// Keys this binding does not decode, as libvirt gave them.
    public var other = TypedParameters()

    public init() {}

    /// Each field's libvirt key, declared once (the C macros `VIR_DOMAIN_JOB_*`).
    static let fields: [TypedField<JobStats>] = [
        .ullong(VIR_DOMAIN_JOB_OPERATION, \.operation),
        .ullong(VIR_DOMAIN_JOB_TIME_ELAPSED, \.timeElapsed),
        .ullong(VIR_DOMAIN_JOB_TIME_REMAINING, \.timeRemaining),
        .ullong(VIR_DOMAIN_JOB_DOWNTIME, \.downtime),
        .ullong(VIR_DOMAIN_JOB_SETUP_TIME, \.setupTime),
        .ullong(VIR_DOMAIN_JOB_DATA_TOTAL, \.dataTotal),
        .ullong(VIR_DOMAIN_JOB_DATA_PROCESSED, \.dataProcessed),
        .ullong(VIR_DOMAIN_JOB_DATA_REMAINING, \.dataRemaining),
        .ullong(VIR_DOMAIN_JOB_MEMORY_TOTAL, \.memoryTotal),
        .ullong(VIR_DOMAIN_JOB_MEMORY_PROCESSED, \.memoryProcessed),
        .ullong(VIR_DOMAIN_JOB_MEMORY_REMAINING, \.memoryRemaining),
        .ullong(VIR_DOMAIN_JOB_MEMORY_CONSTANT, \.memoryConstant),
        .ullong(VIR_DOMAIN_JOB_MEMORY_NORMAL, \.memoryNormal),
        .ullong(VIR_DOMAIN_JOB_MEMORY_NORMAL_BYTES, \.memoryNormalBytes),
        .ullong(VIR_DOMAIN_JOB_MEMORY_BPS, \.memoryBps),
        .ullong(VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, \.memoryDirtyRate),
        .ullong(VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE, \.memoryPageSize),
        .ullong(VIR_DOMAIN_JOB_MEMORY_ITERATION, \.memoryIteration),
        .ullong(VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS, \.memoryPostcopyRequests),
        .ullong(VIR_DOMAIN_JOB_DISK_TOTAL, \.diskTotal),
        .ullong(VIR_DOMAIN_JOB_DISK_PROCESSED, \.diskProcessed),
        .ullong(VIR_DOMAIN_JOB_DISK_REMAINING, \.diskRemaining),
        .ullong(VIR_DOMAIN_JOB_DISK_BPS, \.diskBps),
        .ullong(VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE, \.autoConvergeThrottle),
        .ullong(VIR_DOMAIN_JOB_DOWNTIME_NET, \.downtimeNet),
        .ullong(VIR_DOMAIN_JOB_TIME_ELAPSED_NET, \.timeElapsedNet),
    ]

    /// Decodes a job's typed parameters; `type` comes separately from virDomainGetJobStats.
    public init(type: JobType?, parameters: TypedParameters) {
        self.type = type
        other = parameters.decode(into: &self, fields: Self.fields)
    }

    /// The typed parameters this value stands for (the inverse of decoding, unknown keys included).
    public var parameters: TypedParameters {
        var p = TypedParameters(encoding: self, fields: Self.fields)
        for (k, v) in other.entries { p[k] = v }
        return p
    }

}
