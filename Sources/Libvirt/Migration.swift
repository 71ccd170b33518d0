import BlockingCall
import CLibvirt
import Foundation

/// How a migration behaves (`virDomainMigrateFlags`).
public struct MigrationFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Pre-copy: the guest keeps running while memory is copied. The corresponding C constant is VIR_MIGRATE_LIVE.
    public static let live = MigrationFlags(rawValue: VIR_MIGRATE_LIVE.rawValue)
    /// The source daemon drives the migration itself. The corresponding C constant is VIR_MIGRATE_PEER2PEER.
    public static let peerToPeer = MigrationFlags(rawValue: VIR_MIGRATE_PEER2PEER.rawValue)
    /// The corresponding C constant is VIR_MIGRATE_TUNNELLED.
    public static let tunnelled = MigrationFlags(rawValue: VIR_MIGRATE_TUNNELLED.rawValue)
    /// The corresponding C constant is VIR_MIGRATE_PERSIST_DEST.
    public static let persistDestination = MigrationFlags(rawValue: VIR_MIGRATE_PERSIST_DEST.rawValue)
    /// The corresponding C constant is VIR_MIGRATE_UNDEFINE_SOURCE.
    public static let undefineSource = MigrationFlags(rawValue: VIR_MIGRATE_UNDEFINE_SOURCE.rawValue)
    /// Leave the guest paused on the destination. The corresponding C constant is VIR_MIGRATE_PAUSED.
    public static let paused = MigrationFlags(rawValue: VIR_MIGRATE_PAUSED.rawValue)
    /// The corresponding C constant is VIR_MIGRATE_UNSAFE.
    public static let unsafe = MigrationFlags(rawValue: VIR_MIGRATE_UNSAFE.rawValue)
    /// The corresponding C constant is VIR_MIGRATE_COMPRESSED.
    public static let compressed = MigrationFlags(rawValue: VIR_MIGRATE_COMPRESSED.rawValue)
    /// The corresponding C constant is VIR_MIGRATE_ABORT_ON_ERROR.
    public static let abortOnError = MigrationFlags(rawValue: VIR_MIGRATE_ABORT_ON_ERROR.rawValue)
    /// Throttle the guest's CPUs when pre-copy does not converge. The corresponding C constant is VIR_MIGRATE_AUTO_CONVERGE.
    public static let autoConverge = MigrationFlags(rawValue: VIR_MIGRATE_AUTO_CONVERGE.rawValue)
    /// Allow switching to post-copy later (`Domain.startPostCopy()`). The corresponding C constant is VIR_MIGRATE_POSTCOPY.
    public static let postcopy = MigrationFlags(rawValue: VIR_MIGRATE_POSTCOPY.rawValue)
    /// Send memory over several connections. The corresponding C constant is VIR_MIGRATE_PARALLEL.
    public static let parallel = MigrationFlags(rawValue: VIR_MIGRATE_PARALLEL.rawValue)
}

/// The typed parameters of `virDomainMigrate3` / `virDomainMigrateToURI3`, as a Swift value.
public struct MigrationParameters: Sendable, Equatable {
    /// Where the migration stream connects (e.g. tcp://198.18.0.2); default: the destination's hostname.
    public var migrateURI: String?
    /// The domain's name on the destination.
    public var destinationName: String?
    /// The domain's XML on the destination.
    public var destinationXML: String?
    /// Cap on the migration stream, MiB/s.
    public var bandwidthMiBps: UInt64?
    /// Address the destination listens on for the migration stream.
    public var listenAddress: String?
    /// Auto-converge's first CPU throttle and each step after it, percent (with `.autoConverge`).
    public var autoConvergeInitialPercent: Int32?
    public var autoConvergeIncrementPercent: Int32?
    /// Connections the memory goes over (with `.parallel`).
    public var parallelConnections: Int32?
    /// The compression method (with `.compressed`), e.g. "xbzrle".
    public var compression: String?

    public init(
        migrateURI: String? = nil, destinationName: String? = nil, destinationXML: String? = nil,
        bandwidthMiBps: UInt64? = nil, listenAddress: String? = nil,
        autoConvergeInitialPercent: Int32? = nil, autoConvergeIncrementPercent: Int32? = nil,
        parallelConnections: Int32? = nil, compression: String? = nil
    ) {
        self.migrateURI = migrateURI
        self.destinationName = destinationName
        self.destinationXML = destinationXML
        self.bandwidthMiBps = bandwidthMiBps
        self.listenAddress = listenAddress
        self.autoConvergeInitialPercent = autoConvergeInitialPercent
        self.autoConvergeIncrementPercent = autoConvergeIncrementPercent
        self.parallelConnections = parallelConnections
        self.compression = compression
    }

    /// Each field's libvirt key, declared once (the C macros `VIR_MIGRATE_PARAM_*`).
    static let fields: [TypedField<MigrationParameters>] = [
        .string(VIR_MIGRATE_PARAM_URI, \.migrateURI),
        .string(VIR_MIGRATE_PARAM_DEST_NAME, \.destinationName),
        .string(VIR_MIGRATE_PARAM_DEST_XML, \.destinationXML),
        .ullong(VIR_MIGRATE_PARAM_BANDWIDTH, \.bandwidthMiBps),
        .string(VIR_MIGRATE_PARAM_LISTEN_ADDRESS, \.listenAddress),
        .int(VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL, \.autoConvergeInitialPercent),
        .int(VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT, \.autoConvergeIncrementPercent),
        .int(VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, \.parallelConnections),
        .string(VIR_MIGRATE_PARAM_COMPRESSION, \.compression),
    ]

    public var typedParameters: TypedParameters { TypedParameters(encoding: self, fields: Self.fields) }

    public init(_ parameters: TypedParameters) {
        self.init()
        _ = parameters.decode(into: &self, fields: Self.fields)
    }
}

extension Domain {
    /// Migrates by destination URI (`virDomainMigrateToURI3`): with `.peerToPeer` the source daemon
    /// connects to `destinationURI` itself; without it, `parameters.migrateURI` names where the stream goes.
    ///
    /// The call blocks for the whole migration, so it runs on a thread of its own; the caller awaits it
    /// and can abort it meanwhile with `abortJob()` from any thread.
    public func migrate(
        toURI destinationURI: String, parameters: MigrationParameters, flags: MigrationFlags
    ) async throws {
        let name = self.name
        try await runBlocking { () throws(LibvirtError) in
            try parameters.typedParameters.withUnsafeParametersTyped { p, n throws(LibvirtError) in
                try check(
                    virDomainMigrateToURI3(self.handle, destinationURI, p, UInt32(n), flags.rawValue),
                    "migrate '\(name)' to \(destinationURI)")
            }
        }
    }

    /// Migrates with this client managing both sides (`virDomainMigrate3`): needs an open
    /// connection to the destination; returns the domain as it now exists there.
    public func migrate(
        to destination: Connection, parameters: MigrationParameters, flags: MigrationFlags
    ) async throws -> Domain {
        let name = self.name
        return try await runBlocking { () throws(LibvirtError) -> Domain in
            try parameters.typedParameters.withUnsafeParametersTyped { p, n throws(LibvirtError) -> Domain in
                guard let d = virDomainMigrate3(self.handle, destination.handle, p, UInt32(n), flags.rawValue) else {
                    throw LibvirtError.last("migrate '\(name)' to \(destination.requestedURI)")
                }
                return Domain(handle: d, connection: destination)
            }
        }
    }
}

extension TypedParameters {
    /// `withUnsafeParameters` with libvirt's error type kept.
    fileprivate func withUnsafeParametersTyped<R>(
        _ body: (UnsafeMutablePointer<virTypedParameter>?, Int32) throws(LibvirtError) -> R
    ) throws(LibvirtError) -> R {
        do {
            return try withUnsafeParameters { p, n in try body(p, n) }
        } catch let e as LibvirtError {
            throw e
        } catch {
            throw LibvirtError(code: .unknown, domain: .none, message: "\(error)", operation: "build typed parameters")
        }
    }
}

/// A blocking libvirt call off the cooperative pool (BlockingCall). libvirt's thread-local error
/// is read inside `body`, on that same thread.
func runBlocking<R: Sendable>(_ body: @escaping @Sendable () throws(LibvirtError) -> R) async throws(LibvirtError) -> R {
    let result = await BlockingCall.run("libvirt-blocking-call") { () -> Result<R, LibvirtError> in
        do throws(LibvirtError) { return .success(try body()) } catch { return .failure(error) }
    }
    return try result.get()
}
