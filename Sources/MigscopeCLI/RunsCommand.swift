import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeReport
import MigscopeStore

func openStore(_ path: String) throws -> ResultsStore {
    try ResultsStore(path: path)
}

/// `migscope runs`: the recorded runs in a database.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the runs in the results database.")
    @OptionGroup var database: DatabaseOption
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { try database.requireExisting() }

    func run() async throws {
        let runs = try openStore(database.path).runs()
        if json { print(try JSONText.encode(runs)); return }
        if runs.isEmpty { print("no runs in \(database.path)"); return }
        let rows = runs.map { r -> [String] in
            let s = r.summary
            return ["\(r.id)", r.createdAt, r.status.shown, r.domain, r.mode.rawValue,
                    [r.linkRate, r.linkModel].compactMap { $0 }.joined(separator: " "),
                    s?.migrationSeconds.map { Format.seconds($0) } ?? "-", s?.downtimeMs.map { "\(Int($0)) ms" } ?? "-",
                    s.map { "\($0.rounds)" } ?? "-",
                    (s?.ioDuringRatio.map { String(format: "%.0f %%", $0 * 100) } ?? "-") + (s?.workloadEndedEarly == true ? " (read ended first)" : "")]
        }
        print(TextTable.render(header: ["run", "recorded", "status", "domain", "mode", "link", "migration", "downtime", "rounds", "io during/before"], rows: rows))
        for r in runs where r.status == .failed || r.status == .aborted {
            if let why = r.error { print("run \(r.id) \(r.status.rawValue): \(why)") }
        }
    }
}
