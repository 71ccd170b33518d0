import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeReport
import MigscopeStore

func openStore(_ path: String) throws -> ResultsStore {
    do { return try ResultsStore(path: path) } catch let e as StoreError { throw CLIFailure(e.message) }
}

/// `migscope runs`: the recorded runs in a database.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the runs in the results database.")
    @OptionGroup var database: DatabaseOption
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { try database.requireExisting() }

    func run() async throws {
        let runs: [RunListing]
        do { runs = try openStore(database.path).runs() } catch let e as StoreError { throw CLIFailure(e.message) }
        if json { print(try JSONText.encode(runs)); return }
        if runs.isEmpty { print("no runs in \(database.path)"); return }
        let rows = runs.map { r -> [String] in
            let s = r.summary
            return ["\(r.id)", r.createdAt, r.incomplete ? "incomplete" : r.status, r.domain, r.mode,
                    [r.linkRate, r.linkModel].compactMap { $0 }.joined(separator: " "),
                    s?.migrationSeconds.map { Format.seconds($0) } ?? "-", s?.downtimeMs.map { "\(Int($0)) ms" } ?? "-",
                    s.map { "\($0.rounds)" } ?? "-",
                    (s?.ioDuringRatio.map { String(format: "%.0f %%", $0 * 100) } ?? "-") + (s?.workloadEndedEarly == true ? " (read ended first)" : "")]
        }
        print(TextTable.render(header: ["run", "recorded", "status", "domain", "mode", "link", "migration", "downtime", "rounds", "io during/before"], rows: rows))
    }
}

/// `migscope export RUN --out DIR`: a run's tables as CSV or JSON files.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's rounds, samples, links, events, job polls and summary as CSV (or JSON) files.")
    @Argument(help: "The run's id (see 'migscope runs').") var run: Int64
    @Option(help: ArgumentHelp("Output folder (created if needed).", valueName: "dir")) var out: UserPath
    @Option(help: ArgumentHelp("csv or json.", valueName: "format")) var format: ExportFormat = .csv
    @OptionGroup var database: DatabaseOption

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable { case csv, json }

    func validate() throws { try database.requireExisting() }

    func run() async throws {
        do {
            let stored = try openStore(database.path).run(run)
            if stored.info.isIncomplete {
                printNote("run \(run) is incomplete (its recorder stopped before the end); exporting what was committed")
            }
            let files = try RunExport.write(info: stored.info, trace: stored.trace, to: out.path, format: format == .csv ? .csv : .json)
            for f in files { print(f) }
        } catch let e as StoreError { throw CLIFailure(e.message) } catch let e as ExportError { throw CLIFailure(e.description) }
    }
}
