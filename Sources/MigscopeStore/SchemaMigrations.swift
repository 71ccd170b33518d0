import Foundation
import GRDB
import MigscopeCore

/// The results database's schema, as steps GRDB's migrator applies once each, in order.
///
/// Version 1 is the schema migscope wrote before the migrator (its files carry no migration
/// table: the first step is written to find its tables already there). Version 2 gives each run
/// a UUID and each event its typed facts, read once from version 1's words here and nowhere else.
enum SchemaMigrations {
    static let version = 3

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-tables", migrate: createVersion1)
        m.registerMigration("v2-run-uuids-and-event-facts", migrate: upgradeToVersion2)
        m.registerMigration("v3-tuning-series", migrate: upgradeToVersion3)
        return m
    }

    private static func createVersion1(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS runs (
              id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, anchor_unix REAL NOT NULL,
              status TEXT NOT NULL, outcome TEXT, error TEXT, backend TEXT NOT NULL, domain TEXT NOT NULL,
              source TEXT NOT NULL, destination TEXT NOT NULL, mode TEXT NOT NULL, transport TEXT NOT NULL,
              link_rate TEXT, link_model TEXT, accelerator TEXT, plan TEXT, cell TEXT, repetition INTEGER,
              info_json TEXT NOT NULL, summary_json TEXT);
            CREATE TABLE IF NOT EXISTS rounds (
              run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, number INTEGER NOT NULL,
              start_s REAL NOT NULL, end_s REAL NOT NULL, bytes_sent INTEGER NOT NULL,
              dirty_pages_per_s INTEGER, dirty_bytes_per_s INTEGER, remaining_start_bytes INTEGER,
              remaining_end_bytes INTEGER, pages_dirtied INTEGER, transfer_bytes_per_s REAL NOT NULL,
              stop_and_copy INTEGER NOT NULL, PRIMARY KEY (run_id, number));
            CREATE TABLE IF NOT EXISTS job_samples (
              run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, t_s REAL NOT NULL,
              iteration INTEGER, processed_bytes INTEGER, remaining_bytes INTEGER, total_bytes INTEGER,
              dirty_pages_per_s INTEGER, page_size INTEGER, bytes_per_s INTEGER, downtime_ms INTEGER,
              expected_downtime_ms INTEGER);
            CREATE INDEX IF NOT EXISTS job_samples_run ON job_samples(run_id, t_s);
            CREATE TABLE IF NOT EXISTS samples (
              run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, t_s REAL NOT NULL,
              series TEXT NOT NULL, host TEXT NOT NULL, read_bps REAL NOT NULL, write_bps REAL NOT NULL,
              read_ops REAL, write_ops REAL);
            CREATE INDEX IF NOT EXISTS samples_run ON samples(run_id, t_s);
            CREATE TABLE IF NOT EXISTS links (
              run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, t_s REAL NOT NULL,
              link TEXT NOT NULL, direction TEXT NOT NULL, bytes_per_s REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS links_run ON links(run_id, t_s);
            CREATE TABLE IF NOT EXISTS events (
              run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, t_s REAL NOT NULL,
              kind TEXT NOT NULL, detail TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS events_run ON events(run_id, t_s);
            PRAGMA user_version = 1;
            """)
    }

    private static func upgradeToVersion2(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE runs ADD COLUMN uuid TEXT")
        for id in try Int64.fetchAll(db, sql: "SELECT id FROM runs") {
            try db.execute(sql: "UPDATE runs SET uuid = ? WHERE id = ?", arguments: [UUID().uuidString.lowercased(), id])
        }
        try db.execute(sql: "CREATE UNIQUE INDEX runs_uuid ON runs(uuid)")
        try db.execute(sql: "ALTER TABLE events ADD COLUMN facts_json TEXT")
        let rows = try Row.fetchAll(db, sql: "SELECT rowid, kind, detail FROM events")
        for r in rows {
            guard let kind = EventRecord.Kind(rawValue: r["kind"]), let facts = Version1Event.facts(kind: kind, detail: r["detail"]) else { continue }
            try db.execute(sql: "UPDATE events SET facts_json = ? WHERE rowid = ?", arguments: [try JSONCoding.string(facts), r["rowid"] as Int64])
        }
        try db.execute(sql: "PRAGMA user_version = 2")
    }
}

extension SchemaMigrations {
    /// Version 3 records what the tuning options do each sample: auto-converge's CPU throttle,
    /// post-copy's page requests and the cap migscope set on the stream. It also repairs the
    /// downtime of runs recorded by the migscope of 2026-11-30 before this version, which stored the
    /// hypervisor's milliseconds as a double's bit pattern (186 ms became 9.2e-322).
    static func upgradeToVersion3(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE job_samples ADD COLUMN cpu_throttle_pct INTEGER;
            ALTER TABLE job_samples ADD COLUMN postcopy_requests INTEGER;
            ALTER TABLE job_samples ADD COLUMN speed_cap_bytes_per_s INTEGER;
            """)
        for r in try Row.fetchAll(db, sql: "SELECT rowid, facts_json FROM events WHERE kind = 'migration-completed' AND facts_json IS NOT NULL") {
            guard var facts = try? JSONCoding.decode(EventFacts.self, r["facts_json"] as String),
                  let repaired = DowntimeRepair.repaired(facts.downtimeMs) else { continue }
            facts.downtimeMs = repaired
            try db.execute(sql: "UPDATE events SET facts_json = ?, detail = ? WHERE rowid = ?",
                           arguments: [try JSONCoding.string(facts), facts.words, r["rowid"] as Int64])
        }
        for r in try Row.fetchAll(db, sql: "SELECT id, summary_json FROM runs WHERE summary_json IS NOT NULL") {
            guard var summary = try? JSONCoding.decode(RunSummary.self, r["summary_json"] as String),
                  let repaired = DowntimeRepair.repaired(summary.downtimeMs) else { continue }
            summary.downtimeMs = repaired
            try db.execute(sql: "UPDATE runs SET summary_json = ? WHERE id = ?", arguments: [try JSONCoding.string(summary), r["id"] as Int64])
        }
        try db.execute(sql: "PRAGMA user_version = 3")
    }
}

/// A downtime stored as the bit pattern of its whole milliseconds: a positive subnormal double,
/// which no real downtime is.
enum DowntimeRepair {
    static func repaired(_ stored: Double?) -> Double? {
        guard let stored, stored > 0, stored < Double.leastNormalMagnitude else { return nil }
        return Double(stored.bitPattern)
    }
}

/// Version 1 kept an event's figures only in its words ("downtime_ms=1748 bytes=..."); this reads
/// them once, while upgrading.
enum Version1Event {
    static func facts(kind: EventRecord.Kind, detail: String) -> EventFacts? {
        let words = detail.split(separator: " ")
        func value(_ key: String) -> String? {
            words.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        switch kind {
        case .roundStarted:
            return Int(detail).map { EventFacts(round: $0) }
        case .guestPaused, .guestResumed:
            return HostRole(rawValue: detail).map { EventFacts(host: $0) }
        case .guestLinesDropped:
            return Int(detail).map { EventFacts(count: $0) }
        case .migrationCompleted:
            return EventFacts(location: value("location").flatMap(DomainLocation.Place.init(rawValue:)), downtimeMs: value("downtime_ms").flatMap(Double.init),
                              bytesSent: value("bytes").flatMap(UInt64.init), rounds: value("rounds").flatMap(Int.init))
        case .workloadDone:
            return EventFacts(readBytes: value("read_total").flatMap(UInt64.init), guestSeconds: value("seconds").flatMap(Double.init),
                              hostSeconds: value("host_seconds").flatMap(Double.init))
        default:
            return nil
        }
    }
}
