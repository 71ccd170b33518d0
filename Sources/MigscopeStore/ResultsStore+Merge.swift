import Foundation
import GRDB
import MigscopeCore

/// What `merge` did: runs copied, runs already there (same UUID, same content), per input.
public struct MergeReport: Sendable, Equatable, Codable {
    public struct Input: Sendable, Equatable, Codable {
        public var path: String
        public var runs: Int
        public var copied: Int
        public var alreadyThere: Int
    }
    public var output: String
    public var inputs: [Input]
    public var copied: Int { inputs.reduce(0) { $0 + $1.copied } }
}

extension ResultsStore {
    /// Copies every run of `inputs` that `self` lacks, matched by run UUID; a UUID already here with
    /// the same content is passed over. A UUID whose content differs (here and there, or between two
    /// inputs) refuses the whole merge before anything is written: which one is right is not ours to
    /// pick. Inputs are read through a private copy (SQLite's backup), so an older input is never
    /// upgraded in place and a live writer's committed WAL pages are included.
    public func merge(from inputs: [String]) throws -> MergeReport {
        var seen: [String: (content: String, from: String)] = [:]
        for (uuid, content) in try contentByUUID(self) { seen[uuid] = (content, path) }
        var toCopy: [(input: Int, run: StoredRun)] = []
        var report = MergeReport(output: path, inputs: [])
        var conflicts: [String] = []
        for (i, input) in inputs.enumerated() {
            let store = try Self.privateCopy(of: input)
            defer { store.removeFiles() }
            let runs = try store.store.runs()
            var entry = MergeReport.Input(path: input, runs: runs.count, copied: 0, alreadyThere: 0)
            for listing in runs {
                let run = try store.store.run(listing.id)
                guard let uuid = run.info.uuid?.uuidString.lowercased() else { continue }
                let content = try Self.content(run)
                if let known = seen[uuid] {
                    if known.content == content { entry.alreadyThere += 1 } else {
                        conflicts.append("run \(uuid) (id \(listing.id) in \(input)) differs from the run with that UUID in \(known.from)")
                    }
                    continue
                }
                seen[uuid] = (content, input)
                toCopy.append((i, run))
                entry.copied += 1
            }
            report.inputs.append(entry)
        }
        if !conflicts.isEmpty {
            throw StoreError("nothing merged: \(conflicts.count) run UUID(s) collide with different content: " + conflicts.prefix(5).joined(separator: "; ")
                             + (conflicts.count > 5 ? "; ..." : "") + "; merge the others without the input that holds them")
        }
        for (_, run) in toCopy { _ = try insert(run) }
        return report
    }

    /// A run's content, whatever its local id: what two copies of one run must share.
    static func content(_ run: StoredRun) throws -> String {
        struct Content: Encodable { var info: RunInfo; var trace: Trace; var summary: RunSummary? }
        var info = run.info
        info.id = nil
        return try JSONCoding.string(Content(info: info, trace: run.trace, summary: run.summary))
    }

    private func contentByUUID(_ store: ResultsStore) throws -> [(String, String)] {
        try store.runs().compactMap { listing in
            let run = try store.run(listing.id)
            guard let uuid = run.info.uuid?.uuidString.lowercased() else { return nil }
            return (uuid, try Self.content(run))
        }
    }

    struct PrivateCopy {
        var store: ResultsStore
        var folder: String
        func removeFiles() { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// Copies `path` (read-only) into a temporary database and opens that, bringing it to this
    /// migscope's schema there.
    static func privateCopy(of path: String) throws -> PrivateCopy {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError("cannot merge \(path): no such file", badInput: true)
        }
        do { try refuseNewer(path) } catch let e as StoreError { throw StoreError(e.message + " (is it a migscope results database?)", badInput: true) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migscope-merge-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let copy = folder + "/input.sqlite"
        do {
            var readOnly = Configuration()
            readOnly.readonly = true
            let source = try DatabaseQueue(path: path, configuration: readOnly)
            let target = try DatabaseQueue(path: copy)
            try source.backup(to: target)
            try source.close()
            try target.close()
            return PrivateCopy(store: try ResultsStore(path: copy), folder: folder)
        } catch let e as StoreError {
            try? FileManager.default.removeItem(atPath: folder)
            throw e
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw StoreError("cannot read \(path) to merge it: \(reason(error)) (is it a migscope results database?)", badInput: true)
        }
    }
}
