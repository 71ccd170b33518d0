import Foundation
import MigscopeCore
import MigscopeLibvirt
import MigscopeLibxl

/// Which backend drives a migration: chosen here once, for the command line and plans alike.
public enum BackendChoice: String, Sendable, CaseIterable {
    /// Any hypervisor libvirt drives, hosts named by libvirt URIs.
    case libvirt
    /// Xen through libxl, from the dom0 migscope runs in.
    case libxl

    public var capabilities: BackendCapabilities {
        switch self {
        case .libvirt: LibvirtBackend.capabilities
        case .libxl: LibxlBackend.capabilities
        }
    }

    /// The backend a host name means: 'xen' (or the libxl backend's own name for this host) is
    /// this dom0 through libxl; anything else is a libvirt URI.
    public static func forHost(_ host: String) -> BackendChoice {
        host == "xen" || host == LibxlBackend.thisHost ? .libxl : .libvirt
    }

    /// The source a request names for this backend: libxl always migrates from this host.
    public func source(given: String?) -> String {
        self == .libxl ? LibxlBackend.thisHost : (given ?? "")
    }

    /// What to pass the backend besides the request.
    public struct Options: Sendable {
        /// libxl: where every progress report of libxenguest is written verbatim.
        public var progressLogPath: String?
        /// libxl over TCP: the key both ends prove.
        public var keyPath: String
        public init(progressLogPath: String? = nil, keyPath: String = XenPeerKey.defaultPath) {
            self.progressLogPath = progressLogPath
            self.keyPath = keyPath
        }
    }

    public func makeBackend(_ options: Options = Options()) -> any MigrationBackend {
        switch self {
        case .libvirt: LibvirtBackend()
        case .libxl: LibxlBackend(progressLogPath: options.progressLogPath, keyPath: options.keyPath)
        }
    }

    /// The domains of `host` (one of them if `named`), through the backend it means.
    public static func domains(on host: String, named: String? = nil, timeout: Double = 20) async throws -> [DomainListing] {
        switch forHost(host) {
        case .libxl: return try LibxlInventory.domains(named: named)
        case .libvirt:
            if let named { return [try await LibvirtInventory.domain(named, on: host, timeout: timeout)] }
            return try await LibvirtInventory.domains(on: host, timeout: timeout)
        }
    }
}
