import ArgumentParser
import Foundation
import MigscopeStore

/// A file or folder the user named, or a default, made absolute once, here at the edge: whatever
/// runs later (gnuplot in the figure's folder, a child process, a link in a report) sees the file
/// the user meant, whatever its working folder.
struct UserPath: ExpressibleByArgument, Sendable, Equatable, CustomStringConvertible {
    let path: String

    init?(argument: String) {
        guard !argument.isEmpty, !argument.contains("\0") else { return nil }
        path = Self.absolute(argument)
    }

    init(_ text: String) { path = Self.absolute(text) }

    var description: String { path }

    static func absolute(_ text: String) -> String {
        let expanded = (text as NSString).expandingTildeInPath
        let full = expanded.hasPrefix("/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
        return (full as NSString).standardizingPath
    }

    /// The folder this path is in.
    var parent: String { (path as NSString).deletingLastPathComponent }
}

/// The results database every command shares: `--db`, else `$MIGSCOPE_DB`, else
/// `results/migscope-results.sqlite` under the current folder, where `reproduce` and `batch` write.
struct DatabaseOption: ParsableArguments {
    static let defaultRelativePath = "results/migscope-results.sqlite"

    @Option(help: ArgumentHelp("Results database (default: $MIGSCOPE_DB, else \(DatabaseOption.defaultRelativePath)).", valueName: "file"),
            completion: .file(extensions: ["sqlite", "db"]))
    var db: UserPath?

    var path: String { Self.path(given: db?.path) }

    static func path(given: String?) -> String {
        if let given { return given }
        if let env = ProcessInfo.processInfo.environment["MIGSCOPE_DB"], !env.isEmpty { return UserPath(env).path }
        return UserPath(Self.defaultRelativePath).path
    }

    /// Shell completion of a run id: the ids in the database the command line typed so far names
    /// (`--db`), else the default one.
    static let runIDCompletion = CompletionKind.custom { words, _, _ in
        let given = words.firstIndex(of: "--db").flatMap { words.indices.contains($0 + 1) ? words[$0 + 1] : nil }
        let path = path(given: given.map { UserPath($0).path })
        return ResultsStore.runIDs(readingOnly: path).map(String.init)
    }

    /// For commands that read runs: the database must be there already.
    func requireExisting() throws {
        if !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("no results database at \(path); record a run first ('migscope reproduce', 'migscope batch PLAN' or 'migscope migrate ... --record'), or name one with --db or MIGSCOPE_DB")
        }
    }

    /// For commands that write runs: opens the database, creating it and its folder.
    func openForWriting() throws -> ResultsStore {
        do { try FileManager.default.createDirectory(atPath: UserPath(path).parent, withIntermediateDirectories: true) } catch {
            throw CLIFailure("cannot create the folder of the results database \(path): \(error.localizedDescription)")
        }
        return try openStore(path)
    }
}
