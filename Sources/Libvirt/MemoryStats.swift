import CLibvirt

extension Domain {
    /// What the guest's balloon driver and the host say of its memory (virDomainMemoryStats).
    /// Each figure is nil when the hypervisor does not give it: `unusedKiB` and `availableKiB`
    /// need a balloon device whose driver reports statistics.
    public struct MemoryStats: Sendable, Equatable {
        /// Memory the guest leaves unused (its free memory), KiB.
        public var unusedKiB: UInt64?
        /// Memory the guest can use, KiB.
        public var availableKiB: UInt64?
        /// The hypervisor process's resident set on the host, KiB.
        public var residentKiB: UInt64?
        /// The balloon's current size, KiB.
        public var actualKiB: UInt64?
    }

    public func memoryStats() throws(LibvirtError) -> MemoryStats {
        var raw = [virDomainMemoryStatStruct](repeating: virDomainMemoryStatStruct(), count: Int(VIR_DOMAIN_MEMORY_STAT_NR.rawValue))
        let n = virDomainMemoryStats(handle, &raw, UInt32(raw.count), 0)
        guard n >= 0 else { throw LibvirtError.last("get memory statistics of '\(name)'") }
        var stats = MemoryStats()
        for s in raw.prefix(Int(n)) {
            switch Int32(s.tag) {
            case Int32(VIR_DOMAIN_MEMORY_STAT_UNUSED.rawValue): stats.unusedKiB = s.val
            case Int32(VIR_DOMAIN_MEMORY_STAT_AVAILABLE.rawValue): stats.availableKiB = s.val
            case Int32(VIR_DOMAIN_MEMORY_STAT_RSS.rawValue): stats.residentKiB = s.val
            case Int32(VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON.rawValue): stats.actualKiB = s.val
            default: break
            }
        }
        return stats
    }
}
