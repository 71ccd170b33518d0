import CLibvirt
import Foundation

/// A domain (virtual machine) on one connection (`virDomainPtr`).
public final class Domain: @unchecked Sendable {
    let handle: virDomainPtr
    /// Kept so the connection outlives every domain taken from it.
    public let connection: Connection

    init(handle: virDomainPtr, connection: Connection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { virDomainFree(handle) }

    public var name: String {
        virDomainGetName(handle).map { String(cString: $0) } ?? "?"
    }

    public var uuid: String {
        var buf = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        guard virDomainGetUUIDString(handle, &buf) == 0 else { return "" }
        return String(cBuffer: buf)
    }

    /// The hypervisor's id for a running domain; nil when it is not running.
    public var id: UInt32? {
        let v = virDomainGetID(handle)
        return v == UInt32.max ? nil : v
    }

    /// The domain's state (`virDomainState`).
    public enum State: Int32, Sendable, CustomStringConvertible {
        case noState = 0, running, blocked, paused, shutdown, shutoff, crashed, pmSuspended
        public var description: String {
            switch self {
            case .noState: "no state"
            case .running: "running"
            case .blocked: "blocked"
            case .paused: "paused"
            case .shutdown: "shutting down"
            case .shutoff: "shut off"
            case .crashed: "crashed"
            case .pmSuspended: "suspended by guest power management"
            }
        }
    }

    /// Why a domain is paused (`virDomainPausedReason`), for the reasons migscope tells apart.
    public struct PausedReason: RawRepresentable, Hashable, Sendable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ c: virDomainPausedReason) { rawValue = Int32(c.rawValue) }
        /// The corresponding C constant is VIR_DOMAIN_PAUSED_USER.
        public static let user = PausedReason(VIR_DOMAIN_PAUSED_USER)
        /// Paused for the copy of a migration (the source). The C constant is VIR_DOMAIN_PAUSED_MIGRATION.
        public static let migration = PausedReason(VIR_DOMAIN_PAUSED_MIGRATION)
        /// Still being started: an incoming migration's copy on its destination is paused so until
        /// the migration finishes. The C constant is VIR_DOMAIN_PAUSED_STARTING_UP.
        public static let startingUp = PausedReason(VIR_DOMAIN_PAUSED_STARTING_UP)
        /// The corresponding C constant is VIR_DOMAIN_PAUSED_POSTCOPY.
        public static let postcopy = PausedReason(VIR_DOMAIN_PAUSED_POSTCOPY)
    }

    /// The state and libvirt's reason code for it (e.g. paused because of migration).
    public func state() throws(LibvirtError) -> (state: State, reason: Int32) {
        var s: Int32 = 0
        var r: Int32 = 0
        try check(virDomainGetState(handle, &s, &r, 0), "get state of '\(name)'")
        return (State(rawValue: s) ?? .noState, r)
    }

    public struct Info: Sendable, Equatable {
        public var state: State
        public var maxMemoryKiB: UInt64
        public var memoryKiB: UInt64
        public var virtualCPUs: UInt16
        public var cpuTimeNs: UInt64
    }

    public func info() throws(LibvirtError) -> Info {
        var i = virDomainInfo()
        try check(virDomainGetInfo(handle, &i), "get info of '\(name)'")
        return Info(
            state: State(rawValue: Int32(i.state)) ?? .noState, maxMemoryKiB: UInt64(i.maxMem),
            memoryKiB: UInt64(i.memory), virtualCPUs: i.nrVirtCpu, cpuTimeNs: i.cpuTime)
    }

    public var isActive: Bool { virDomainIsActive(handle) == 1 }
    public var isPersistent: Bool { virDomainIsPersistent(handle) == 1 }

    public func xmlDescription() throws(LibvirtError) -> String {
        guard let p = virDomainGetXMLDesc(handle, 0) else { throw LibvirtError.last("get XML of '\(name)'") }
        defer { free(p) }
        return String(cString: p)
    }

    public func suspend() throws(LibvirtError) { try check(virDomainSuspend(handle), "pause '\(name)'") }
    public func resume() throws(LibvirtError) { try check(virDomainResume(handle), "resume '\(name)'") }
    public func destroy() throws(LibvirtError) { try check(virDomainDestroy(handle), "destroy '\(name)'") }
    public func start() throws(LibvirtError) { try check(virDomainCreate(handle), "start '\(name)'") }
    public func undefine() throws(LibvirtError) { try check(virDomainUndefine(handle), "undefine '\(name)'") }

    /// Statistics of the domain's current job (`virDomainGetJobStats`); with `completed`, those of
    /// the last finished job, which libvirt keeps on the source and on the destination.
    public func jobStats(completed: Bool = false) throws(LibvirtError) -> JobStats {
        var type: Int32 = 0
        var params: UnsafeMutablePointer<virTypedParameter>? = nil
        var n: Int32 = 0
        let flags = completed ? UInt32(VIR_DOMAIN_JOB_STATS_COMPLETED.rawValue) : 0
        try check(virDomainGetJobStats(handle, &type, &params, &n, flags), "get job stats of '\(name)'")
        defer { virTypedParamsFree(params, n) }
        return JobStats(type: JobStats.JobType(rawValue: type), parameters: TypedParameters(decoding: params, count: n))
    }

    /// Aborts the domain's running job (a migration stays on the source).
    public func abortJob() throws(LibvirtError) { try check(virDomainAbortJob(handle), "abort job of '\(name)'") }

    /// Longest pause tolerated at the end of a live migration; settable before and during one.
    public func setMigrationMaxDowntime(milliseconds: UInt64) throws(LibvirtError) {
        try check(virDomainMigrateSetMaxDowntime(handle, milliseconds, 0), "set max downtime of '\(name)'")
    }

    public func migrationMaxDowntime() throws(LibvirtError) -> UInt64 {
        var v: UInt64 = 0
        try check(virDomainMigrateGetMaxDowntime(handle, &v, 0), "get max downtime of '\(name)'")
        return v
    }

    /// Cap on the migration stream in MiB/s; settable before and during one.
    public func setMigrationMaxSpeed(mebibytesPerSecond: UInt64) throws(LibvirtError) {
        try check(virDomainMigrateSetMaxSpeed(handle, UInt(mebibytesPerSecond), 0), "set max speed of '\(name)'")
    }

    /// Switches a running migration started with `.postcopy` to post-copy: the guest resumes on
    /// the destination and fetches the pages it still lacks on demand (`virDomainMigrateStartPostCopy`).
    public func startPostCopy() throws(LibvirtError) {
        try check(virDomainMigrateStartPostCopy(handle, 0), "switch the migration of '\(name)' to post-copy")
    }

    public func migrationMaxSpeed() throws(LibvirtError) -> UInt64 {
        var v: UInt = 0
        try check(virDomainMigrateGetMaxSpeed(handle, &v, 0), "get max speed of '\(name)'")
        return UInt64(v)
    }
}
