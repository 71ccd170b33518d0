import CLibvirt

/// Cumulative I/O counters of one of a domain's disks, as the hypervisor counts them on the host.
public struct BlockStats: Sendable, Equatable {
    public var readRequests: Int64
    public var readBytes: Int64
    public var writeRequests: Int64
    public var writeBytes: Int64
    public var errors: Int64
}

extension Domain {
    /// Counters of the disk named `device` (its target, e.g. "vda"); an empty name sums all disks.
    public func blockStats(device: String = "") throws(LibvirtError) -> BlockStats {
        var s = virDomainBlockStatsStruct()
        try check(
            virDomainBlockStats(handle, device, &s, MemoryLayout<virDomainBlockStatsStruct>.size),
            "read block counters of '\(name)'")
        return BlockStats(
            readRequests: s.rd_req, readBytes: s.rd_bytes, writeRequests: s.wr_req,
            writeBytes: s.wr_bytes, errors: s.errs)
    }

    /// The targets of the domain's disks (e.g. ["vda"]), read from its XML.
    public func diskTargets() throws(LibvirtError) -> [String] {
        let xml = try xmlDescription()
        var targets: [String] = []
        var rest = Substring(xml)
        while let disk = rest.range(of: "<disk ") {
            rest = rest[disk.upperBound...]
            guard let end = rest.range(of: "</disk>") else { break }
            let body = rest[..<end.lowerBound]
            if let t = body.range(of: "<target dev='") ?? body.range(of: "<target dev=\"") {
                let after = body[t.upperBound...]
                if let q = after.firstIndex(where: { $0 == "'" || $0 == "\"" }) { targets.append(String(after[..<q])) }
            }
            rest = rest[end.upperBound...]
        }
        return targets
    }
}

extension Domain {
    /// The `type` of the domain's XML root (`<domain type='kvm'>`): kvm, qemu, xen, test...
    public func virtualizationType() throws(LibvirtError) -> String? {
        let xml = try xmlDescription()
        guard let start = xml.range(of: "<domain ") else { return nil }
        let tag = xml[start.upperBound...].prefix { $0 != ">" }
        guard let t = tag.range(of: "type='") ?? tag.range(of: "type=\"") else { return nil }
        let value = tag[t.upperBound...].prefix { $0 != "'" && $0 != "\"" }
        return value.isEmpty ? nil : String(value)
    }
}

extension Domain {
    /// Counters of all the domain's disks from its bulk statistics (`virDomainListGetStats`, block
    /// group), without waiting for a running job: during an incoming migration the plain
    /// `virDomainBlockStats` waits for the migration's job lock (up to 30 s); with NOWAIT libvirt
    /// returns at once with what it can read. Nil when it reports no disks.
    public func blockStatsNoWait() throws(LibvirtError) -> BlockStats? {
        guard let p = try statsNoWait(UInt32(VIR_DOMAIN_STATS_BLOCK.rawValue), "read statistics of '\(name)'") else { return nil }
        guard let count = p["block.count"]?.unsigned, count > 0 else { return nil }
        var sum = BlockStats(readRequests: 0, readBytes: 0, writeRequests: 0, writeBytes: 0, errors: 0)
        var any = false
        for i in 0..<count {
            guard let rb = p["block.\(i).rd.bytes"]?.unsigned else { continue }
            any = true
            sum.readBytes += Int64(rb)
            sum.readRequests += Int64(p["block.\(i).rd.reqs"]?.unsigned ?? 0)
            sum.writeBytes += Int64(p["block.\(i).wr.bytes"]?.unsigned ?? 0)
            sum.writeRequests += Int64(p["block.\(i).wr.reqs"]?.unsigned ?? 0)
            sum.errors += Int64(p["block.\(i).errors"]?.unsigned ?? 0)
        }
        return any ? sum : nil
    }
}

extension Domain {
    /// One group of the domain's bulk statistics (`virDomainListGetStats` with NOWAIT, so a running
    /// job's lock is not waited for); nil when libvirt returns no record.
    func statsNoWait(_ group: UInt32, _ operation: @autoclosure () -> String) throws(LibvirtError) -> TypedParameters? {
        var doms: [virDomainPtr?] = [handle, nil]
        var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>? = nil
        let n = virDomainListGetStats(&doms, group, &records, UInt32(VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT.rawValue))
        try check(n, operation())
        defer { virDomainStatsRecordListFree(records) }
        guard n > 0, let record = records?[0] else { return nil }
        return TypedParameters(decoding: record.pointee.params, count: record.pointee.nparams)
    }
}
