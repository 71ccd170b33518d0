import ArgumentParser
import Foundation
import MigscopeStore

/// `migscope merge OUT IN...`: results databases from several machines in one, by run UUID.
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge results databases (from several machines) into one, by run UUID, without duplicates.",
        discussion: """
            OUT is created if it does not exist. A run already in OUT (same UUID, same content) is passed over; \
            a UUID whose content differs refuses the whole merge before anything is written. The inputs are read, never changed.
            """)
    @Argument(help: ArgumentHelp("The database to merge into.", valueName: "out.sqlite"), completion: .file(extensions: ["sqlite"])) var output: UserPath
    @Argument(help: ArgumentHelp("The databases to merge from.", valueName: "in.sqlite"), completion: .file(extensions: ["sqlite"])) var inputs: [UserPath] = []
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one database to merge from: migscope merge OUT.sqlite IN.sqlite...") }
        for i in inputs where i == output { throw ValidationError("\(i.path) is both the output and an input; name another output") }
        for i in inputs where !FileManager.default.fileExists(atPath: i.path) {
            throw ValidationError("no database at \(i.path); name an existing results database")
        }
    }

    func run() async throws {
        let folder = output.parent
        if !FileManager.default.fileExists(atPath: folder) {
            throw CLIFailure("cannot create \(output.path): folder \(folder) does not exist", exitStatus: 2)
        }
        let report = try ResultsStore(path: output.path).merge(from: inputs.map(\.path))
        if json { print(try JSONText.encode(report)); return }
        for i in report.inputs {
            print("\(i.path): \(i.runs) run(s), \(i.copied) copied, \(i.alreadyThere) already in \(output.path)")
        }
        print("merged \(report.copied) run(s) into \(output.path)")
    }
}
