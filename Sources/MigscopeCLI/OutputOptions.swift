import ArgumentParser
import Foundation

/// How much a long command says while it runs, and in what form (`migrate`, `attach`, `batch`,
/// `reproduce`, `lab up`).
struct OutputOptions: ParsableArguments {
    enum Progress: String, ExpressibleByArgument, CaseIterable, Sendable {
        /// The human line when stdout and stderr are terminals, nothing otherwise.
        case auto
        /// The human line always (one a second when stderr is not a terminal: for logs).
        case line
        /// One JSON object per line on stdout: progress, notes, events and, last, the result.
        case json
        case none
    }

    @Option(help: ArgumentHelp("auto (a line on a terminal, nothing otherwise), line, json (one object per line on stdout, for scripts) or none.", valueName: "style"))
    var progress: Progress = .auto

    @Flag(name: .shortAndLong, help: "Print only the result and errors: no progress, no notes.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Say more: each pre-copy round as it begins and every state change the hypervisor reports.")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("-q/--quiet and -v/--verbose ask for opposite things; give one") }
    }

    struct Resolved: Sendable {
        var progress: Progress = .line
        var quiet = false
        var verbose = false
    }

    /// `auto` decided against this process's stdout and stderr; `-q` silences the human line.
    var resolved: Resolved {
        var p = progress
        if p == .auto { p = isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1 ? .line : .none }
        if quiet && p == .line { p = .none }
        return Resolved(progress: p, quiet: quiet, verbose: verbose)
    }
}

/// A command's result on stdout: words for people, pretty JSON with `--json`, or, under
/// `--progress json`, one `{"type":"result",...}` line that ends the stream.
enum ResultOutput {
    static func print(_ value: some Encodable, json: Bool, output: OutputOptions.Resolved, human: () throws -> String) throws {
        if output.progress == .json {
            try JSONLines.write(value, type: "result")
        } else if json {
            Swift.print(try JSONText.encode(value))
        } else {
            Swift.print(try human())
        }
    }
}
