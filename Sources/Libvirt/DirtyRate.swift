import CLibvirt

/// A guest's dirty rate as its hypervisor measures it in place, without migrating
/// (`virDomainStartDirtyRateCalc`, then the `dirtyrate` group of the domain's statistics).
public struct DirtyRate: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        case unstarted, measuring, measured
        case other(Int32)
    }

    /// How QEMU measures it: by hashing sampled pages (the default), or from the dirty bitmap or ring.
    public enum Mode: String, Sendable, CaseIterable {
        case pageSampling = "page-sampling", dirtyBitmap = "dirty-bitmap", dirtyRing = "dirty-ring"

        var flags: UInt32 {
            switch self {
            case .pageSampling: UInt32(VIR_DOMAIN_DIRTYRATE_MODE_PAGE_SAMPLING.rawValue)
            case .dirtyBitmap: UInt32(VIR_DOMAIN_DIRTYRATE_MODE_DIRTY_BITMAP.rawValue)
            case .dirtyRing: UInt32(VIR_DOMAIN_DIRTYRATE_MODE_DIRTY_RING.rawValue)
            }
        }
    }

    public var status: Status
    /// MiB dirtied per second over the last measurement (libvirt calls it megabytes).
    public var mebibytesPerSecond: UInt64?
    /// When the last measurement started (seconds since the epoch) and how long it watched.
    public var startTime: Int64?
    public var periodSeconds: Int64?
    public var mode: String?

    /// The statistics' dirtyrate group, as libvirt names its keys.
    public init(_ p: TypedParameters) {
        let raw: Int32? = switch p["dirtyrate.calc_status"] {
        case .int(let v): v
        case .uint(let v): Int32(clamping: v)
        case .llong(let v): Int32(clamping: v)
        case .ullong(let v): Int32(clamping: v)
        default: nil
        }
        status = switch raw {
        case Int32(VIR_DOMAIN_DIRTYRATE_UNSTARTED.rawValue), nil: .unstarted
        case Int32(VIR_DOMAIN_DIRTYRATE_MEASURING.rawValue): .measuring
        case Int32(VIR_DOMAIN_DIRTYRATE_MEASURED.rawValue): .measured
        case let v?: .other(v)
        }
        mebibytesPerSecond = p["dirtyrate.megabytes_per_second"]?.unsigned
        startTime = p["dirtyrate.calc_start_time"]?.unsigned.map { Int64(clamping: $0) }
        periodSeconds = p["dirtyrate.calc_period"]?.unsigned.map { Int64(clamping: $0) }
        if case .string(let m) = p["dirtyrate.calc_mode"] { mode = m }
    }
}

extension Domain {
    /// Starts measuring the guest's dirty rate over `seconds` (1 to 60); the result appears in
    /// `dirtyRate()` once its status is `measured`.
    public func startDirtyRateCalculation(seconds: Int32, mode: DirtyRate.Mode = .pageSampling) throws(LibvirtError) {
        try check(virDomainStartDirtyRateCalc(handle, seconds, mode.flags), "start measuring the dirty rate of '\(name)'")
    }

    /// The last dirty-rate measurement, from the domain's statistics (without waiting for a job).
    public func dirtyRate() throws(LibvirtError) -> DirtyRate {
        DirtyRate(try statsNoWait(UInt32(VIR_DOMAIN_STATS_DIRTYRATE.rawValue), "read the dirty rate of '\(name)'") ?? TypedParameters())
    }
}
