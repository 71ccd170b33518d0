import Foundation
import GRDB
import MigscopeCore

/// The results database: one SQLite file holding every recorded run, written while it is recorded.
///
/// Schema (version 2; GRDB's migrator records the steps, `PRAGMA user_version` the version, so a
/// migscope that knows only version 1 refuses the file); times are seconds on the run's clock,
/// which `runs.anchor_unix` ties to wall time:
///   runs(id, uuid, created_at, anchor_unix, status, outcome, error, backend, domain, source, destination,
///        mode, transport, link_rate, link_model, accelerator, plan, cell, repetition, info_json, summary_json)
///   rounds(run_id, number, start_s, end_s, bytes_sent, dirty_pages_per_s, dirty_bytes_per_s,
///          remaining_start_bytes, remaining_end_bytes, pages_dirtied, transfer_bytes_per_s, stop_and_copy)
///   job_samples(run_id, t_s, iteration, processed_bytes, remaining_bytes, total_bytes,
///               dirty_pages_per_s, page_size, bytes_per_s, downtime_ms, expected_downtime_ms,
///               cpu_throttle_pct, postcopy_requests, speed_cap_bytes_per_s)
///   samples(run_id, t_s, series, host, read_bps, write_bps, read_ops, write_ops)
///   links(run_id, t_s, link, direction, bytes_per_s)
///   events(run_id, t_s, kind, detail, facts_json)
public final class ResultsStore: TraceSink, @unchecked Sendable {
    public static let schemaVersion = SchemaMigrations.version
    public let path: String
    private let db: DatabaseQueue

    public init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            throw StoreError("cannot open results database \(path): folder \(dir) does not exist")
        }
        // A results database holds host names and timings: readable by its owner only. Made
        // empty with that mode before SQLite sees it (its -wal and -shm files take the same mode).
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        // A database from a newer migscope is refused before anything (even WAL mode) is written.
        try Self.refuseNewer(path)
        var config = Configuration()
        config.prepareDatabase { db in
            // WAL: a commit survives the recorder being killed; readers never block the writer.
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        config.busyMode = .timeout(10)
        do {
            db = try Self.openQueue(path, config)
        } catch {
            throw StoreError("cannot open results database \(path): \(Self.reason(error))")
        }
        try migrate()
    }

    /// Two processes opening a new database at once race to switch it to WAL, and SQLite answers
    /// the loser "database is locked" without waiting for its busy timeout: it tries again, for up
    /// to 10 s, before saying so.
    static func openQueue(_ path: String, _ config: Configuration) throws -> DatabaseQueue {
        let deadline = Date().addingTimeInterval(10)
        while true {
            do { return try DatabaseQueue(path: path, configuration: config) } catch let e as DatabaseError
                where (e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED) && Date() < deadline {
                usleep(50_000)
            }
        }
    }

    static func reason(_ error: Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.read(body) } catch let e as StoreError { throw e } catch {
            throw StoreError("cannot read results database \(path): \(Self.reason(error))")
        }
    }

    static func refuseNewer(_ path: String) throws {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? UInt64, size > 0 else { return }
        var readOnly = Configuration()
        readOnly.readonly = true
        let version: Int
        do {
            version = try DatabaseQueue(path: path, configuration: readOnly).read { try Int.fetchOne($0, sql: "PRAGMA user_version") ?? 0 }
        } catch {
            throw StoreError("cannot open results database \(path): \(Self.reason(error))")
        }
        let unknownSteps: Bool
        do {
            unknownSteps = try DatabaseQueue(path: path, configuration: readOnly).read { try SchemaMigrations.migrator.hasBeenSuperseded($0) }
        } catch {
            throw StoreError("cannot open results database \(path): \(Self.reason(error))")
        }
        if version > Self.schemaVersion || unknownSteps {
            throw StoreError("results database \(path) has schema \(version), newer than this migscope's \(Self.schemaVersion); use a newer migscope or another --db")
        }
    }

    /// Two first opens at once (two batches starting together) race to apply the same step; the
    /// loser finds it applied when it looks again.
    private func migrate() throws {
        var attempt = 0
        while true {
            do {
                try SchemaMigrations.migrator.migrate(db)
                return
            } catch {
                attempt += 1
                if attempt >= 5 { throw StoreError("cannot bring results database \(path) to schema \(Self.schemaVersion): \(Self.reason(error))") }
                usleep(100_000)
            }
        }
    }

    // MARK: TraceSink

    public func begin(_ info: RunInfo) throws -> Int64 {
        var info = info.redacted
        if info.uuid == nil { info.uuid = UUID() }
        return try db.write { db in try Self.insertRun(db, info) }
    }

    public func append(runID: Int64, _ b: TraceBatch) throws {
        try db.write { db in try Self.insertBatch(db, runID: runID, b) }
    }

    public func finish(runID: Int64, info: RunInfo, rounds: [RoundRecord], summary: RunSummary) throws {
        let info = info.redacted
        try db.write { db in try Self.writeEnd(db, runID: runID, info: info, rounds: rounds, summary: summary) }
    }

    /// A whole run read from another database, written in one transaction under a new local id
    /// (its UUID kept): what `merge` copies.
    func insert(_ run: StoredRun) throws -> Int64 {
        var info = run.info.redacted
        info.id = nil
        return try db.write { db in
            let id = try Self.insertRun(db, info)
            var b = TraceBatch()
            (b.jobSamples, b.samples, b.links, b.events) = (run.trace.jobSamples, run.trace.samples, run.trace.links, run.trace.events)
            try Self.insertBatch(db, runID: id, b)
            try Self.writeEnd(db, runID: id, info: info, rounds: run.trace.rounds, summary: run.summary)
            return id
        }
    }

    private static func insertRun(_ db: Database, _ info: RunInfo) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO runs (uuid, created_at, anchor_unix, status, backend, domain, source, destination, mode, transport,
                  link_rate, link_model, accelerator, plan, cell, repetition, info_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                info.uuid?.uuidString.lowercased(), ISO8601DateFormatter().string(from: info.anchor), info.anchor.timeIntervalSince1970,
                RunStatus.recording.rawValue, info.backend,
                info.request.domain, info.request.source, info.request.destination, info.request.mode.rawValue,
                info.request.transport.rawValue, info.linkRate, info.linkModel, info.accelerator, info.planName,
                info.cell, info.repetition, try JSONCoding.string(info),
            ])
        return db.lastInsertedRowID
    }

    private static func insertBatch(_ db: Database, runID: Int64, _ b: TraceBatch) throws {
        for j in b.jobSamples {
            let p = j.progress
            try db.execute(
                sql: "INSERT INTO job_samples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [runID, j.t, p.iteration.map(Int64.init), p.memoryProcessedBytes.map(Int64.init), p.memoryRemainingBytes.map(Int64.init),
                            p.memoryTotalBytes.map(Int64.init), p.dirtyRatePagesPerSecond.map(Int64.init), p.pageSizeBytes.map(Int64.init),
                            p.memoryBytesPerSecond.map(Int64.init), p.downtimeMs.map(Int64.init), p.expectedDowntimeMs.map(Int64.init),
                            p.cpuThrottlePercent.map(Int64.init), p.postcopyRequests.map(Int64.init), p.speedCapBytesPerSecond.map(Int64.init)])
        }
        for s in b.samples {
            try db.execute(
                sql: "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [runID, s.t, s.series.rawValue, s.host, s.readBytesPerSecond, s.writeBytesPerSecond, s.readOpsPerSecond, s.writeOpsPerSecond])
        }
        for l in b.links {
            try db.execute(sql: "INSERT INTO links VALUES (?, ?, ?, ?, ?)", arguments: [runID, l.t, l.link, l.direction.rawValue, l.bytesPerSecond])
        }
        for e in b.events {
            try db.execute(sql: "INSERT INTO events (run_id, t_s, kind, detail, facts_json) VALUES (?, ?, ?, ?, ?)",
                           arguments: [runID, e.t, e.kind.rawValue, e.detail, e.facts.isEmpty ? nil : try JSONCoding.string(e.facts)])
        }
    }

    private static func writeEnd(_ db: Database, runID: Int64, info: RunInfo, rounds: [RoundRecord], summary: RunSummary?) throws {
        try db.execute(sql: "DELETE FROM rounds WHERE run_id = ?", arguments: [runID])
        for r in rounds {
            try db.execute(
                sql: "INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [runID, r.number, r.startS, r.endS, Int64(r.bytesSent), r.dirtyPagesPerSecond.map(Int64.init),
                            r.dirtyBytesPerSecond.map(Int64.init), r.remainingBytesAtStart.map(Int64.init),
                            r.remainingBytesAtEnd.map(Int64.init), r.pagesDirtied.map(Int64.init), r.transferBytesPerSecond, r.stopAndCopy])
        }
        try db.execute(
            sql: "UPDATE runs SET status = ?, outcome = ?, error = ?, info_json = ?, summary_json = ? WHERE id = ?",
            arguments: [info.status.rawValue, info.outcome?.rawValue, info.error, try JSONCoding.string(info),
                        try summary.map { try JSONCoding.string($0) }, runID])
    }
}

public struct StoreError: UserFacingError, Sendable, Equatable {
    public var message: String
    /// 2 when the user named something that is not there or not a database (bad input).
    public var exitStatus: Int32
    public init(_ m: String, badInput: Bool = false) {
        message = m
        exitStatus = badInput ? 2 : 1
    }
}

enum JSONCoding {
    static func string(_ v: some Encodable) throws -> String {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(v), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ t: T.Type, _ s: String) throws -> T {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return try d.decode(t, from: Data(s.utf8))
    }
}
