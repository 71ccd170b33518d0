import ArgumentParser
import Foundation
import MigscopeCore

/// The process entry point: parses, runs, and turns every failure into one line and an exit status
/// (2 for usage errors, 1 for runtime failures, 130 when interrupted), never a stack trace. This is
/// the one place an error becomes an exit status: each error type says its own (UserFacingError).
public enum MigscopeMain {
    public static func run(_ arguments: [String]) async -> Never {
        do {
            // `--version` says more than ArgumentParser's line: the libraries and hypervisors seen.
            let given = Array(arguments.dropFirst())
            var command = try Migscope.parseAsRoot(given == ["--version"] ? ["version"] : given)
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
        if let failure = error as? UserFacingError {
            // One line per problem (a plan reports all of its problems at once).
            for line in failure.message.split(separator: "\n") { printError(String(line)) }
            return failure.exitStatus
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

/// A failure the command line itself describes.
struct CLIFailure: UserFacingError {
    var message: String
    var exitStatus: Int32
    init(_ message: String, exitStatus: Int32 = 1) {
        self.message = message
        self.exitStatus = exitStatus
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("migscope: error: \(message)\n".utf8))
}

func printNote(_ message: String) {
    FileHandle.standardError.write(Data("migscope: \(message)\n".utf8))
}
