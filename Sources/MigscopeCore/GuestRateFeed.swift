import Foundation

/// The guest's own read rate, line by line as the recorder reads it from the guest's reports, for
/// whoever steers by it while the migration runs (the I/O-floor pacer).
///
/// The run's "I/O during / before" is measured on these lines where there are any; a pacer that
/// steered by the host's block counters instead aimed at one measure and was judged by another
/// (measured in the lab: its floor held on the counters came out 3 to 7 points over on the lines).
public final class GuestRateFeed: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(at: ContinuousClock.Instant, readBytesPerSecond: Double)] = []

    public init() {}

    /// One rate line, as it arrived.
    public func post(readBytesPerSecond: Double, at instant: ContinuousClock.Instant) {
        lock.withLock { lines.append((instant, readBytesPerSecond)) }
    }

    /// The lines that arrived in (`start`, `end`], in order.
    public func lines(after start: ContinuousClock.Instant, through end: ContinuousClock.Instant) -> [(at: ContinuousClock.Instant, readBytesPerSecond: Double)] {
        lock.withLock { lines.filter { $0.at > start && $0.at <= end } }
    }

    /// The mean of the lines that arrived after `start` (all of them when nil), and how many there were.
    public func mean(after start: ContinuousClock.Instant? = nil) -> (readBytesPerSecond: Double, lines: Int)? {
        let chosen: [Double] = lock.withLock {
            lines.filter { line in start.map { line.at > $0 } ?? true }.map(\.readBytesPerSecond)
        }
        guard !chosen.isEmpty else { return nil }
        return (chosen.reduce(0, +) / Double(chosen.count), chosen.count)
    }
}
