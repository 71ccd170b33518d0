import CLibvirt
import BlockingCall
import Foundation

/// An open connection to one hypervisor through libvirt (`virConnectPtr`).
public final class Connection: @unchecked Sendable {
    let handle: virConnectPtr
    /// The URI the connection was opened with.
    public let requestedURI: String
    public let isReadOnly: Bool

    /// Opens `uri` (e.g. qemu:///system, qemu+ssh://host/system, test:///default).
    /// Credentials are asked through libvirt's default callbacks, as virsh does.
    public init(uri: String, readOnly: Bool = false) throws(LibvirtError) {
        Libvirt.ensureInitialized()
        let flags = readOnly ? UInt32(VIR_CONNECT_RO.rawValue) : 0
        guard let h = virConnectOpenAuth(uri, migscope_virConnectAuthPtrDefault(), flags) else {
            throw LibvirtError.last("open \(uri)")
        }
        handle = h
        requestedURI = uri
        isReadOnly = readOnly
    }

    /// Opens `uri` on a thread of its own and gives up after `timeout` seconds, so an
    /// unreachable host cannot hang the caller (TCP connects can take minutes to fail).
    public static func open(uri: String, readOnly: Bool = false, timeout: Double = 20) async throws -> Connection {
        let opened = await BlockingCall.run("libvirt-open", timeout: timeout) { () -> Result<Connection, LibvirtError> in
            do throws(LibvirtError) { return .success(try Connection(uri: uri, readOnly: readOnly)) } catch { return .failure(error) }
        }
        guard let result = opened else {
            throw LibvirtError(
                code: .noConnect, domain: .none,
                message: "no answer from \(uri) within \(Int(timeout)) s", operation: "open \(uri)")
        }
        return try result.get()
    }

    deinit { virConnectClose(handle) }

    /// The URI libvirt says this connection has (canonical form).
    public var uri: String {
        guard let p = virConnectGetURI(handle) else { return requestedURI }
        defer { free(p) }
        return String(cString: p)
    }

    public var hostname: String? {
        guard let p = virConnectGetHostname(handle) else { virResetLastError(); return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The hypervisor's version as its driver reports it (QEMU's, e.g. "7.2.0"; nil when unknown).
    public var hypervisorVersion: String? {
        var v: UInt = 0
        guard virConnectGetVersion(handle, &v) == 0, v > 0 else { virResetLastError(); return nil }
        return Libvirt.dotted(v)
    }

    /// The libvirt version of the daemon at the other end (nil when it does not say).
    public var daemonVersion: String? {
        var v: UInt = 0
        guard virConnectGetLibVersion(handle, &v) == 0, v > 0 else { virResetLastError(); return nil }
        return Libvirt.dotted(v)
    }

    /// The driver's name, e.g. "QEMU", "Test", "xenlight".
    public var driverType: String? {
        guard let p = virConnectGetType(handle) else { return nil }
        return String(cString: p)
    }

    /// The host's capabilities XML (`virConnectGetCapabilities`).
    public func capabilities() throws(LibvirtError) -> String {
        guard let p = virConnectGetCapabilities(handle) else { throw LibvirtError.last("get capabilities of \(requestedURI)") }
        defer { free(p) }
        return String(cString: p)
    }

    /// Memory the host has free now, bytes (`virNodeGetFreeMemory`).
    public func freeMemoryBytes() throws(LibvirtError) -> UInt64 {
        let free = virNodeGetFreeMemory(handle)
        // 0 is the call's only failure value; a host with no free memory at all is no host to use.
        guard free > 0 else { throw LibvirtError.last("get free memory of \(requestedURI)") }
        return UInt64(free)
    }

    /// The host's UUID from its capabilities, which tells two hosts apart whatever their URIs.
    public var hostUUID: String? {
        guard let caps = try? capabilities(),
              let host = caps.range(of: "<host>"),
              let open = caps.range(of: "<uuid>", range: host.upperBound..<caps.endIndex),
              let close = caps.range(of: "</uuid>", range: open.upperBound..<caps.endIndex)
        else { return nil }
        return String(caps[open.upperBound..<close.lowerBound])
    }

    public var isAlive: Bool { virConnectIsAlive(handle) == 1 }

    public func domain(named name: String) throws(LibvirtError) -> Domain {
        guard let d = virDomainLookupByName(handle, name) else { throw LibvirtError.last("look up domain '\(name)'") }
        return Domain(handle: d, connection: self)
    }

    public func domain(uuid: String) throws(LibvirtError) -> Domain {
        guard let d = virDomainLookupByUUIDString(handle, uuid) else { throw LibvirtError.last("look up domain \(uuid)") }
        return Domain(handle: d, connection: self)
    }

    /// Looks a domain up by UUID when the text is one, else by name.
    public func domain(nameOrUUID key: String) throws(LibvirtError) -> Domain {
        if UUID(uuidString: key) != nil, let d = try? domain(uuid: key) { return d }
        return try domain(named: key)
    }

    /// Which domains to list.
    public struct ListFilter: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// The corresponding C constant is VIR_CONNECT_LIST_DOMAINS_ACTIVE.
        public static let active = ListFilter(rawValue: VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue)
        /// The corresponding C constant is VIR_CONNECT_LIST_DOMAINS_INACTIVE.
        public static let inactive = ListFilter(rawValue: VIR_CONNECT_LIST_DOMAINS_INACTIVE.rawValue)
    }

    public func domains(_ filter: ListFilter = []) throws(LibvirtError) -> [Domain] {
        var list: UnsafeMutablePointer<virDomainPtr?>? = nil
        let n = virConnectListAllDomains(handle, &list, filter.rawValue)
        try check(n, "list domains on \(requestedURI)")
        defer { free(list) }
        return (0..<Int(n)).compactMap { i in list![i].map { Domain(handle: $0, connection: self) } }
    }

    /// Defines and starts a transient domain from its XML.
    public func createDomain(xml: String) throws(LibvirtError) -> Domain {
        guard let d = virDomainCreateXML(handle, xml, 0) else { throw LibvirtError.last("create domain") }
        return Domain(handle: d, connection: self)
    }
}
