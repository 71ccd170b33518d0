/// Receives a run as it is recorded: the store writes it to disk, tests keep it in memory.
public protocol TraceSink: Sendable {
    /// Registers the run before anything is measured; returns its id.
    func begin(_ info: RunInfo) throws -> Int64
    /// Samples and events since the last call; the sink makes them durable before returning.
    func append(runID: Int64, _ batch: TraceBatch) throws
    /// The rounds, the final status and the summary, once the run ends.
    func finish(runID: Int64, info: RunInfo, rounds: [RoundRecord], summary: RunSummary) throws
}

public struct TraceBatch: Sendable, Equatable {
    public var jobSamples: [JobSample] = []
    public var samples: [IOSample] = []
    public var links: [LinkSample] = []
    public var events: [EventRecord] = []
    public init() {}
    public var isEmpty: Bool { jobSamples.isEmpty && samples.isEmpty && links.isEmpty && events.isEmpty }
}
