import Foundation
import GRDB
import MigscopeCore

/// One line of `migscope runs`.
public struct RunListing: Sendable, Equatable, Codable {
    public var id: Int64
    public var uuid: String?
    public var createdAt: String
    public var status: RunStatus
    public var domain: String
    public var mode: MigrationRequest.Mode
    public var source: String
    public var destination: String
    public var linkRate: String?
    public var linkModel: String?
    public var plan: String?
    public var cell: String?
    public var repetition: Int?
    /// Why the run failed or was aborted, when it was.
    public var error: String?
    public var summary: RunSummary?
    /// The guest's settings, the accelerator and the software on each host (nil in older runs).
    public var guest: DomainFacts?
    public var accelerator: String?
    public var software: SoftwareVersions?
    /// The drain the run was part of, if any.
    public var drain: String?
    /// Still "recording" but nobody is: the recorder died; what it committed is kept.
    public var incomplete: Bool { status == .recording }
}

/// A run read back from the database.
public struct StoredRun: Sendable {
    public var info: RunInfo
    public var trace: Trace
    public var summary: RunSummary?
}

extension ResultsStore {
    public func runs() throws -> [RunListing] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id").map { r in
                let info = (r["info_json"] as String?).flatMap { try? JSONCoding.decode(RunInfo.self, $0) }
                return RunListing(
                    id: r["id"], uuid: r["uuid"], createdAt: r["created_at"], status: RunStatus(rawValue: r["status"]) ?? .recording,
                    domain: r["domain"], mode: MigrationRequest.Mode(rawValue: r["mode"]) ?? .live,
                    source: r["source"], destination: r["destination"], linkRate: r["link_rate"], linkModel: r["link_model"],
                    plan: r["plan"], cell: r["cell"], repetition: r["repetition"], error: r["error"],
                    summary: (r["summary_json"] as String?).flatMap { try? JSONCoding.decode(RunSummary.self, $0) },
                    guest: info?.domain, accelerator: r["accelerator"], software: info?.software, drain: info?.drain)
            }
        }
    }

    /// The runs a recorded drain made (`drain --record`), by id.
    public func runIDs(inDrain drain: String) throws -> [Int64] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT id, info_json FROM runs WHERE info_json LIKE ? ORDER BY id", arguments: ["%" + drain + "%"]).compactMap { r in
                let info = (r["info_json"] as String?).flatMap { try? JSONCoding.decode(RunInfo.self, $0) }
                return info?.drain == drain ? r["id"] : nil
            }
        }
    }

    public func run(_ id: Int64) throws -> StoredRun {
        try reading { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else {
                let ids = try Int64.fetchAll(db, sql: "SELECT id FROM runs ORDER BY id")
                let known = ids.isEmpty ? "the database has no runs" : "runs are \(ids.first!)...\(ids.last!)"
                throw StoreError("no run \(id) in \(path); \(known) ('migscope runs' lists them)", badInput: true)
            }
            var info = try JSONCoding.decode(RunInfo.self, r["info_json"])
            info.id = id
            info.uuid = (r["uuid"] as String?).flatMap(UUID.init(uuidString:))
            info.status = RunStatus(rawValue: r["status"]) ?? .recording
            var trace = Trace()
            trace.rounds = try Row.fetchAll(db, sql: "SELECT * FROM rounds WHERE run_id = ? ORDER BY number", arguments: [id]).map { r in
                RoundRecord(
                    number: r["number"], startS: r["start_s"], endS: r["end_s"], bytesSent: UInt64(r["bytes_sent"] as Int64),
                    dirtyPagesPerSecond: (r["dirty_pages_per_s"] as Int64?).map(UInt64.init),
                    dirtyBytesPerSecond: (r["dirty_bytes_per_s"] as Int64?).map(UInt64.init),
                    remainingBytesAtStart: (r["remaining_start_bytes"] as Int64?).map(UInt64.init),
                    remainingBytesAtEnd: (r["remaining_end_bytes"] as Int64?).map(UInt64.init),
                    pagesDirtied: (r["pages_dirtied"] as Int64?).map(UInt64.init),
                    transferBytesPerSecond: r["transfer_bytes_per_s"], stopAndCopy: r["stop_and_copy"])
            }
            let u: (Row, String) -> UInt64? = { row, col in (row[col] as Int64?).map(UInt64.init) }
            trace.jobSamples = try Row.fetchAll(db, sql: "SELECT * FROM job_samples WHERE run_id = ? ORDER BY t_s", arguments: [id]).map { r in
                JobSample(t: r["t_s"], progress: JobProgress(
                    iteration: u(r, "iteration"), dirtyRatePagesPerSecond: u(r, "dirty_pages_per_s"), pageSizeBytes: u(r, "page_size"),
                    memoryTotalBytes: u(r, "total_bytes"), memoryProcessedBytes: u(r, "processed_bytes"),
                    memoryRemainingBytes: u(r, "remaining_bytes"), memoryBytesPerSecond: u(r, "bytes_per_s"),
                    downtimeMs: u(r, "downtime_ms"), expectedDowntimeMs: u(r, "expected_downtime_ms"),
                    cpuThrottlePercent: u(r, "cpu_throttle_pct"), postcopyRequests: u(r, "postcopy_requests"),
                    speedCapBytesPerSecond: u(r, "speed_cap_bytes_per_s")))
            }
            trace.samples = try Row.fetchAll(db, sql: "SELECT * FROM samples WHERE run_id = ? ORDER BY t_s", arguments: [id]).compactMap { r in
                guard let series = IOSample.Series(rawValue: r["series"]) else { return nil }
                return IOSample(t: r["t_s"], series: series, host: r["host"], readBytesPerSecond: r["read_bps"],
                                writeBytesPerSecond: r["write_bps"], readOpsPerSecond: r["read_ops"], writeOpsPerSecond: r["write_ops"])
            }
            trace.links = try Row.fetchAll(db, sql: "SELECT * FROM links WHERE run_id = ? ORDER BY t_s", arguments: [id]).compactMap { r in
                guard let d = LinkSample.Direction(rawValue: r["direction"]) else { return nil }
                return LinkSample(t: r["t_s"], link: r["link"], direction: d, bytesPerSecond: r["bytes_per_s"])
            }
            trace.events = try Row.fetchAll(db, sql: "SELECT * FROM events WHERE run_id = ? ORDER BY t_s", arguments: [id]).compactMap { r in
                guard let k = EventRecord.Kind(rawValue: r["kind"]) else { return nil }
                let facts = (r["facts_json"] as String?).flatMap { try? JSONCoding.decode(EventFacts.self, $0) } ?? EventFacts()
                return EventRecord(t: r["t_s"], kind: k, detail: r["detail"], facts: facts)
            }
            let summary = (r["summary_json"] as String?).flatMap { try? JSONCoding.decode(RunSummary.self, $0) }
            return StoredRun(info: info, trace: trace, summary: summary)
        }
    }
}

extension ResultsStore {
    /// The run ids in `path`, read without writing anything (not even a schema upgrade): what shell
    /// completion offers. Empty when there is no readable database there.
    public static func runIDs(readingOnly path: String) -> [Int64] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var config = Configuration()
        config.readonly = true
        return (try? DatabaseQueue(path: path, configuration: config).read { try Int64.fetchAll($0, sql: "SELECT id FROM runs ORDER BY id") }) ?? []
    }
}
