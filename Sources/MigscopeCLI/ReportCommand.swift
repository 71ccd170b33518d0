import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeReport
import MigscopeStore

/// `migscope report RUN [RUN...] --out DIR`: figures, tables and an HTML page.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write figures (timeline, network, rounds; a comparison for several runs), tables and one HTML page.")
    @Argument(help: "Run ids (see 'migscope runs').", completion: DatabaseOption.runIDCompletion) var runs: [Int64] = []
    @Option(help: ArgumentHelp("A recorded drain's id (printed by 'drain --record'): all its runs on one clock.", valueName: "id"))
    var drain: String?
    @Option(help: ArgumentHelp("Output folder (created if needed).", valueName: "dir")) var out: UserPath
    @OptionGroup var database: DatabaseOption
    @Flag(help: "Print the report's page, folder and runs as JSON.") var json = false

    struct Written: Encodable {
        var page: String
        var folder: String
        var runs: [Int64]
        var incomplete: [Int64]
        /// False when gnuplot is missing: the page has its tables and says so, without pictures.
        var figures: Bool
    }

    func validate() throws {
        if let drain {
            if !runs.isEmpty { throw ValidationError("--drain reports the drain's own runs: give run ids or --drain, not both") }
            if drain.isEmpty || drain.count > 64 || !drain.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                throw ValidationError("--drain: '\(drain.prefix(64))' is not a drain id (hex digits and dashes, as 'drain --record' prints)")
            }
        } else if runs.isEmpty { throw ValidationError("give at least one run id ('migscope runs' lists them), or --drain ID") }
        try database.requireExisting()
    }

    func run() async throws {
        do {
            let store = try openStore(database.path)
            let runs = try drain.map { d in
                let ids = try store.runIDs(inDrain: d)
                if ids.isEmpty { throw CLIFailure("no runs of drain \(d) in \(database.path); 'drain --record' stores them, 'migscope runs' lists what is there", exitStatus: 1) }
                return ids
            } ?? self.runs
            let inputs = try runs.map { id -> RunReport.Input in
                let r = try store.run(id)
                if r.info.isIncomplete { printNote("run \(id) is incomplete; the report shows what was recorded and says so") }
                return RunReport.Input(info: r.info, trace: r.trace)
            }
            let page = try drain.map { try DrainReport.write(drain: $0, inputs, to: out.path) } ?? RunReport.write(inputs, to: out.path)
            if Gnuplot.executable == nil { printNote("figures \(Gnuplot.missing)") }
            if json {
                print(try JSONText.encode(Written(page: page, folder: out.path, runs: runs,
                                                  incomplete: inputs.filter { $0.info.isIncomplete }.compactMap(\.info.id), figures: Gnuplot.executable != nil)))
            } else {
                print(page)
            }
        }
    }
}
