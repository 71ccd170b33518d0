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
