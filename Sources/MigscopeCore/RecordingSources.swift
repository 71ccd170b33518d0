import Foundation

// Where the recorder's samples of things other than the hypervisor come from: protocols here,
// readers of this machine's files in MigscopeProbes.

/// Cumulative byte counters of named links.
public protocol LinkCounterSource: Sendable {
    /// A plain sentence on what is watched, or why nothing is ("no link counters: ...").
    var description: String { get }
    func read() -> [LinkCounter]
}

public struct LinkCounter: Sendable, Equatable {
    public var link: String
    public var sentBytes: UInt64
    public var receivedBytes: UInt64
    public init(link: String, sentBytes: UInt64, receivedBytes: UInt64) {
        self.link = link
        self.sentBytes = sentBytes
        self.receivedBytes = receivedBytes
    }
}

/// Lines a guest writes about its own I/O, as they arrive (its console log, followed).
public protocol GuestReportSource: Sendable {
    /// What is followed, for the record ("the console log at PATH").
    var description: String { get }
    /// Lines that arrived since the last call.
    func newLines() -> [Substring]
    /// Lines dropped for being over-long.
    var droppedLines: Int { get }
}
