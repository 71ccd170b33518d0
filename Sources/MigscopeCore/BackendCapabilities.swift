/// What a request may ask of a migration, each a thing a backend can or cannot do.
public enum MigrationFeature: String, Sendable, CaseIterable {
    case live, nonLive = "non-live"
    case streamCap, maxDowntime, timeout, pauseAfterRounds, abortAfter
    case peerToPeer, migrateURI, destinationName, definitions
    case autoConverge, postcopy, parallel, compression, stopPolicy, downtimeSteps, ioFloor

    /// The command line's option for it.
    public var flag: String {
        switch self {
        case .live: "--live"
        case .nonLive: "--non-live"
        case .streamCap: "--bandwidth"
        case .maxDowntime: "--max-downtime"
        case .timeout: "--timeout"
        case .pauseAfterRounds: "--pause-after-rounds"
        case .abortAfter: "--abort-after"
        case .peerToPeer: "--p2p"
        case .migrateURI: "--migrate-uri"
        case .destinationName: "--destination-name"
        case .definitions: "--persistent/--undefine-source"
        case .autoConverge: "--auto-converge"
        case .postcopy: "--postcopy"
        case .parallel: "--parallel"
        case .compression: "--compress"
        case .stopPolicy: "--stop-after"
        case .downtimeSteps: "--downtime-steps"
        case .ioFloor: "--io-floor"
        }
    }

    /// A plan's key for it.
    public var planKey: String {
        switch self {
        case .live, .nonLive: "modes"
        case .streamCap: "bandwidth_cap_mibps"
        case .maxDowntime: "max_downtime_ms"
        case .timeout: "timeout_s"
        case .pauseAfterRounds: "pause_after_rounds"
        case .abortAfter: "abort_after_s"
        case .peerToPeer: "p2p"
        case .migrateURI: "migrate_uri"
        case .destinationName: "destination_name"
        case .definitions: "persistent/undefine_source"
        case .autoConverge: "auto_converge"
        case .postcopy: "postcopy_after"
        case .parallel: "parallel"
        case .compression: "compress"
        case .stopPolicy: "stop_after"
        case .downtimeSteps: "downtime_steps"
        case .ioFloor: "io_floor_pct"
        }
    }
}

/// What a backend can do, declared once: the command line, the plan reader and the backend
/// itself all ask this, so a limit is written in one place.
public struct BackendCapabilities: Sendable, Equatable {
    /// The backend's name, as stored with each run (as the backend declares it).
    public var name: String
    /// What it cannot do, each with why and what to do instead.
    public var unsupported: [MigrationFeature: String]

    public init(name: String, unsupported: [MigrationFeature: String] = [:]) {
        self.name = name
        self.unsupported = unsupported
    }

    public func supports(_ f: MigrationFeature) -> Bool { unsupported[f] == nil }

    /// The features `request` uses that this backend lacks, naming each by `name` (a flag or a plan key).
    public func problems(_ request: MigrationRequest, naming name: (MigrationFeature) -> String = \.flag) -> [RequestProblem] {
        request.features.compactMap { f in
            unsupported[f].map { RequestProblem(field: name(f), message: "\(name(f)): \($0)") }
        }
    }
}

extension MigrationRequest {
    /// The features this request asks for.
    public var features: [MigrationFeature] {
        var f: [MigrationFeature] = [mode == .live ? .live : .nonLive]
        if bandwidthMiBps != nil { f.append(.streamCap) }
        if maxDowntimeMs != nil { f.append(.maxDowntime) }
        if pauseAfterSeconds != nil { f.append(.timeout) }
        if pauseAfterRounds != nil { f.append(.pauseAfterRounds) }
        if abortAfterSeconds != nil { f.append(.abortAfter) }
        if transport == .peerToPeer { f.append(.peerToPeer) }
        if migrateURI != nil { f.append(.migrateURI) }
        if destinationName != nil { f.append(.destinationName) }
        if persistent == true || undefineSource == true { f.append(.definitions) }
        if autoConverge != nil { f.append(.autoConverge) }
        if postcopy != nil { f.append(.postcopy) }
        if parallelConnections != nil { f.append(.parallel) }
        if compression != nil { f.append(.compression) }
        if stopPolicy != nil { f.append(.stopPolicy) }
        if downtimeSteps != nil { f.append(.downtimeSteps) }
        if ioFloorPercent != nil { f.append(.ioFloor) }
        return f
    }
}
