import Foundation
@testable import MigscopeLab

/// Runs a program to its end, as a user would from a shell: its exit status, stdout and stderr.
struct ProcessRun {
    var status: Int32
    var out: String
    var err: String

    static let migscope = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("migscope").path

    static func run(_ program: String = migscope, _ args: [String], in folder: String? = nil, environment: [String: String]? = nil) throws -> ProcessRun {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        if let folder { p.currentDirectoryURL = URL(fileURLWithPath: folder) }
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return ProcessRun(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }
}

extension ProcessRun {
    /// Runs migscope with `args`, sends SIGINT (Ctrl-C) once `atLeast` of `domains` have a
    /// migration job on `source` (virsh domjobinfo) and 2 s more have passed, and waits for its end.
    static func interruptedOnceMigrating(_ args: [String], source: String, domains: [String], atLeast: Int) async throws -> ProcessRun {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: migscope)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let busy = try domains.filter { d in
                try Command.run(["virsh", "-c", source, "domjobinfo", d], check: false, timeout: 30).stdout.contains("Unbounded")
            }
            if busy.count >= atLeast { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        try await Task.sleep(for: .seconds(2))
        kill(p.processIdentifier, SIGINT)
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return ProcessRun(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }
}
