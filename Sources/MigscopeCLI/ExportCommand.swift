import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeReport
import MigscopeStore

/// `migscope export RUN --out DIR`: a run's tables as CSV or JSON files.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's rounds, samples, links, events, job polls and summary as CSV (or JSON) files.")
    @Argument(help: "The run's id (see 'migscope runs').", completion: DatabaseOption.runIDCompletion) var run: Int64
    @Option(help: ArgumentHelp("Output folder (created if needed).", valueName: "dir")) var out: UserPath
    @Option(help: ArgumentHelp("csv or json.", valueName: "format")) var format: RunExport.Format = .csv
    @OptionGroup var database: DatabaseOption
    @Flag(help: "Print the files written as JSON (their format is --format's).") var json = false

    func validate() throws { try database.requireExisting() }

    func run() async throws {
        do {
            let stored = try openStore(database.path).run(run)
            if stored.info.isIncomplete {
                printNote("run \(run) is incomplete (its recorder stopped before the end); exporting what was committed")
            }
            let files = try RunExport.write(info: stored.info, trace: stored.trace, to: out.path, format: format)
            if json {
                struct Written: Encodable { var run: Int64; var format: String; var files: [String] }
                print(try JSONText.encode(Written(run: run, format: format.rawValue, files: files)))
            } else {
                for f in files { print(f) }
            }
        }
    }
}
