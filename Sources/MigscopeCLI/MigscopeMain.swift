import ArgumentParser
import Foundation
import MigscopeCore

/// The process entry point: parses, runs, and turns every failure into one line and an exit status
/// (2 for usage errors, 1 for runtime failures), never a stack trace.
public enum MigscopeMain {
    public static func run(_ arguments: [String]) async -> Never {
        do {
            var command = try Migscope.parseAsRoot(Array(arguments.dropFirst()))
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            exit(report(error))
        }
    }

    /// Prints what went wrong and returns the exit status.
    static func report(_ error: Error) -> Int32 {
        if let code = error as? ExitCode { return code.rawValue }
        let status = Migscope.exitCode(for: error)
        if status == .success {
            // --help, --version: ArgumentParser's own text, on stdout.
            print(Migscope.fullMessage(for: error))
            return 0
        }
        if let invalid = error as? PlanInvalid {
            // Every problem of a plan, one line each: a user fixes them all in one go.
            for line in invalid.description.split(separator: "\n") { printError(String(line)) }
            return 2
        }
        if error is MigrationError || error is RequestProblem || error is CLIFailure {
            printError("\(error)")
            return 1
        }
        if status == .validationFailure {
            printError(oneLine(Migscope.message(for: error)) + " (see 'migscope help')")
            return 2
        }
        printError(oneLine("\(error)"))
        return 1
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// A runtime failure the CLI has already described.
struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("migscope: error: \(message)\n".utf8))
}

func printNote(_ message: String) {
    FileHandle.standardError.write(Data("migscope: \(message)\n".utf8))
}
