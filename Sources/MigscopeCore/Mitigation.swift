import Foundation

/// One way (or several joined by '+') to keep the guest's I/O up while it migrates, as a plan's
/// `mitigation:` list names it: "none", "cap:50%", "cap:6", "storage-priority", "io-floor:50",
/// "auto-converge", "auto-converge:20/10", "postcopy", "postcopy:round:1", "postcopy:20",
/// "stop:xen", "stop:rounds=30,sent=3x", "downtime-steps:max=1000,steps=4,delay=5",
/// "parallel:4", "compress:xbzrle", "max-downtime:2000".
public struct Mitigation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The words it was written in, normalised: what cell keys and tables show.
    public var text: String
    /// Serve the guest's storage traffic first on the shared link (the lab's links only).
    public var storagePriority = false
    /// Cap the stream at this share of the link's rate.
    public var capFraction: Double?
    public var capMiBps: UInt64?
    public var ioFloorPercent: Int?
    public var autoConverge: AutoConverge?
    public var postcopy: PostcopyTrigger?
    public var parallelConnections: Int?
    public var compression: MigrationCompression?
    public var stopPolicy: StopPolicy?
    public var downtimeSteps: DowntimeSteps?
    public var maxDowntimeMs: UInt64?

    public static let none = Mitigation(text: "none")

    private init(text: String) { self.text = text }

    public init(parsing raw: String) throws(TuningSyntaxError) {
        let t = raw.trimmingCharacters(in: .whitespaces).lowercased()
        self.init(text: t)
        if t == "none" { return }
        guard !t.isEmpty else { throw TuningSyntaxError("an empty mitigation; write none, or e.g. cap:50% or io-floor:50") }
        let parts = t.split(separator: "+", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for part in parts { try add(part) }
        text = parts.joined(separator: "+")
    }

    /// It tunes a live migration's pre-copy only (a non-live cell runs without it).
    public var liveOnly: Bool {
        ioFloorPercent != nil || autoConverge != nil || postcopy != nil || stopPolicy != nil || downtimeSteps != nil || maxDowntimeMs != nil
    }

    private mutating func add(_ part: String) throws(TuningSyntaxError) {
        let (name, value): (String, String?) = {
            guard let i = part.firstIndex(of: ":") else { return (part, nil) }
            return (String(part[..<i]), String(part[part.index(after: i)...]))
        }()
        func need(_ example: String) throws(TuningSyntaxError) -> String {
            guard let value, !value.isEmpty else { throw TuningSyntaxError("'\(part)' needs a value, e.g. \(example)") }
            return value
        }
        switch name {
        case "storage-priority":
            storagePriority = true
        case "cap":
            let v = try need("cap:50% or cap:6 (MiB/s)")
            if v.hasSuffix("%") {
                guard let p = Double(v.dropLast()), p > 0, p <= 100 else { throw TuningSyntaxError("cap:\(v): a share of the link from 1% to 100%") }
                capFraction = p / 100
            } else {
                guard let m = UInt64(v), RequestLimits.streamCapMiBps.contains(m) else {
                    throw TuningSyntaxError("cap:\(v): a share of the link (cap:50%) or whole MiB/s from 1 to \(RequestLimits.streamCapMiBps.upperBound)")
                }
                capMiBps = m
            }
        case "io-floor":
            guard let p = Int(try need("io-floor:50")), (1...99).contains(p) else { throw TuningSyntaxError("io-floor takes a percentage from 1 to 99, e.g. io-floor:50") }
            ioFloorPercent = p
        case "auto-converge":
            var a = AutoConverge()
            if let value {
                let nums = value.split(separator: "/").map { Int($0) }
                guard (1...2).contains(nums.count), nums.allSatisfy({ $0.map { (1...100).contains($0) } ?? false }) else {
                    throw TuningSyntaxError("auto-converge:\(value): write auto-converge:INITIAL/INCREMENT in percent, e.g. auto-converge:20/10")
                }
                a.initialPercent = nums[0]
                if nums.count == 2 { a.incrementPercent = nums[1] }
            }
            autoConverge = a
        case "postcopy":
            postcopy = try value.map { v throws(TuningSyntaxError) in try PostcopyTrigger(parsing: v) } ?? .afterRound(1)
        case "parallel":
            guard let n = Int(try need("parallel:4")), RequestLimits.parallelConnections.contains(n) else {
                throw TuningSyntaxError("parallel takes \(RequestLimits.parallelConnections.lowerBound) to \(RequestLimits.parallelConnections.upperBound) connections")
            }
            parallelConnections = n
        case "compress":
            let v = try need("compress:xbzrle")
            guard let c = MigrationCompression(rawValue: v) else { throw TuningSyntaxError("compress:\(v): the methods are xbzrle and mt") }
            compression = c
        case "stop":
            stopPolicy = try StopPolicy(parsing: try need("stop:xen or stop:rounds=30,sent=3x"))
        case "downtime-steps":
            downtimeSteps = try DowntimeSteps(parsing: try need("downtime-steps:max=1000,steps=4,delay=5"))
        case "max-downtime":
            guard let ms = UInt64(try need("max-downtime:2000")), RequestLimits.maxDowntimeMs.contains(ms) else {
                throw TuningSyntaxError("max-downtime takes 1 to \(RequestLimits.maxDowntimeMs.upperBound) milliseconds")
            }
            maxDowntimeMs = ms
        default:
            throw TuningSyntaxError("unknown mitigation '\(name)'; the kinds are none, cap, storage-priority, io-floor, auto-converge, postcopy, parallel, compress, stop, downtime-steps, max-downtime (joined with +)")
        }
    }

    public var description: String { text }

    // The words say everything it sets: two mitigations written alike are the same.
    public static func == (a: Mitigation, b: Mitigation) -> Bool { a.text == b.text }
    public func hash(into h: inout Hasher) { h.combine(text) }

    /// The stream cap it sets on a link of `rate`, MiB/s.
    public func cap(on rate: LinkRate) -> UInt64? {
        if let capMiBps { return capMiBps }
        guard let f = capFraction, let bytes = rate.bytesPerSecond else { return nil }
        return max(1, UInt64((bytes * f / 1_048_576).rounded()))
    }

    /// `request` with this mitigation's migration options set (storage priority is the link's).
    public func applied(to request: MigrationRequest, linkRate: LinkRate) -> MigrationRequest {
        var r = request
        if let c = cap(on: linkRate) { r.bandwidthMiBps = c }
        if let ioFloorPercent { r.ioFloorPercent = ioFloorPercent }
        if let autoConverge { r.autoConverge = autoConverge }
        if let postcopy { r.postcopy = postcopy }
        if let parallelConnections { r.parallelConnections = parallelConnections }
        if let compression { r.compression = compression }
        if let stopPolicy { r.stopPolicy = stopPolicy }
        if let downtimeSteps { r.downtimeSteps = downtimeSteps }
        if let maxDowntimeMs { r.maxDowntimeMs = maxDowntimeMs }
        return r
    }

    /// What it asks of a backend: the features of the request it makes (MigrationRequest.features
    /// says which field is which feature, once), less those of a request without it.
    public var features: [MigrationFeature] {
        let bare = MigrationRequest(domain: "d", source: "a", destination: "b", transport: .clientManaged)
        // A share of the link is a cap on any shaped link; the rate only sizes it.
        let base = Set(bare.features)
        return applied(to: bare, linkRate: .mbit(100)).features.filter { !base.contains($0) }
    }
}
