import Foundation

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
