/// How a host's link carries its two directions.
public enum LinkModel: String, Sendable, Hashable, Codable, CaseIterable {
    /// Each direction has the full rate (a switched full-duplex port).
    case fullDuplex = "full-duplex"
    /// Both directions share one rate: the contention between the migration stream a host
    /// sends and the storage traffic it receives.
    case shared
}
