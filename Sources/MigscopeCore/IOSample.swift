/// One measurement of the guest's I/O rate.
public struct IOSample: Sendable, Equatable, Codable {
    public enum Series: String, Sendable, Codable, CaseIterable {
        /// The hypervisor's block counters of the guest's disks, one continuous series across hosts.
        case host
        /// The guest's own rate lines (measured inside the VM).
        case guest
    }
    public var t: Double
    public var series: Series
    /// Where the figure came from: a host role's raw value for the hypervisors' counters,
    /// `IOSample.guestOrigin` for the guest's own lines.
    public var host: String
    /// The host the figure came from, when it came from one.
    public var role: HostRole? { HostRole(rawValue: host) }
    public static let guestOrigin = "guest"
    public var readBytesPerSecond: Double
    public var writeBytesPerSecond: Double
    public var readOpsPerSecond: Double?
    public var writeOpsPerSecond: Double?

    public init(t: Double, series: Series, host: String, readBytesPerSecond: Double, writeBytesPerSecond: Double,
                readOpsPerSecond: Double? = nil, writeOpsPerSecond: Double? = nil) {
        self.t = t
        self.series = series
        self.host = host
        self.readBytesPerSecond = readBytesPerSecond
        self.writeBytesPerSecond = writeBytesPerSecond
        self.readOpsPerSecond = readOpsPerSecond
        self.writeOpsPerSecond = writeOpsPerSecond
    }
}
