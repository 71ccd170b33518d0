import Foundation

/// Everything measured in one run, in memory (the store holds the same, written as it arrives):
/// rounds, job polls, I/O and link samples, events. Times are seconds on the run's own monotonic
/// clock (t = 0 when recording began); `RunInfo.anchor` ties that clock to wall time.
public struct Trace: Sendable, Equatable, Codable {
    public var rounds: [RoundRecord] = []
    public var jobSamples: [JobSample] = []
    public var samples: [IOSample] = []
    public var links: [LinkSample] = []
    public var events: [EventRecord] = []
    public init() {}

    public func firstEvent(_ kind: EventRecord.Kind) -> EventRecord? { events.first { $0.kind == kind } }
    public func lastEvent(_ kind: EventRecord.Kind) -> EventRecord? { events.last { $0.kind == kind } }
}
