/// Bytes/s on one link in one direction, as the link's own counters saw it.
public struct LinkSample: Sendable, Equatable, Codable {
    public enum Direction: String, Sendable, Codable {
        /// What the machine sent (host A: the migration stream).
        case sent
        /// What it received (host A: the guest's iSCSI reads).
        case received
    }
    public var t: Double
    public var link: String
    public var direction: Direction
    public var bytesPerSecond: Double
    public init(t: Double, link: String, direction: Direction, bytesPerSecond: Double) {
        self.t = t
        self.link = link
        self.direction = direction
        self.bytesPerSecond = bytesPerSecond
    }
}
