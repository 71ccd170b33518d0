import Foundation
import XCTest

/// `scripts/install.sh --prefix DIR` as a user runs it: the installed binary (through its link)
/// finds its built-in plans, the man page is there and says the exit statuses, and the bash
/// completion completes subcommands and run ids. CI installs once in stage 3 (after the release
/// build the main job made) and names the prefix in MIGSCOPE_INSTALLED; without it the test
/// installs into a temporary prefix itself (a release build: minutes).
final class InstallTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func sh(_ script: String, env: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        p.currentDirectoryURL = URL(fileURLWithPath: Self.repository)
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testTheInstalledBinaryManPageAndCompletionsWork() throws {
        var prefix = ProcessInfo.processInfo.environment["MIGSCOPE_INSTALLED"] ?? ""
        var made: String?
        if prefix.isEmpty {
            prefix = NSTemporaryDirectory() + "migscope-install-\(UUID().uuidString)"
            made = prefix
            let r = try sh("bash scripts/install.sh --prefix '\(prefix)'")
            XCTAssertEqual(r.status, 0, r.err)
        }
        defer { if let made { try? FileManager.default.removeItem(atPath: made) } }

        let bin = prefix + "/bin/migscope"
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: bin), "../lib/migscope/migscope")
        let version = try sh("'\(bin)' version")
        XCTAssertEqual(version.status, 0, version.err)
        XCTAssertTrue(version.out.hasPrefix("migscope "), version.out)
        // The built-in plan is found by the installed copy: the error is the database's, not the plan's.
        let plan = try sh("cd /tmp && '\(bin)' reproduce --quick --db /proc/no-such-folder/x.sqlite")
        XCTAssertEqual(plan.status, 1)
        XCTAssertTrue(plan.err.contains("cannot create the folder of the results database"), plan.err)

        let man = try String(contentsOfFile: prefix + "/share/man/man1/migscope.1", encoding: .utf8)
        XCTAssertTrue(man.contains(".Dt MIGSCOPE 1"), "not an mdoc page")
        for word in ["merge", "reproduce", "--progress", "Exit status", "130", "MIGSCOPE_DB"] {
            XCTAssertTrue(man.contains(word), "the man page lacks \(word)")
        }
        for file in ["share/zsh/site-functions/_migscope", "share/fish/vendor_completions.d/migscope.fish"] {
            let text = try String(contentsOfFile: prefix + "/" + file, encoding: .utf8)
            XCTAssertTrue(text.contains("merge") && text.contains("reproduce"), file)
        }

        // bash: subcommands, and the run ids of the database named so far.
        let db = NSTemporaryDirectory() + "migscope-install-db-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: db) }
        let merged = try sh("'\(bin)' merge '\(db)' Tests/MigscopeStoreTests/Fixtures/schema-v1.sqlite")
        XCTAssertEqual(merged.status, 0, merged.err)
        let completion = prefix + "/share/bash-completion/completions/migscope"
        let sub = try sh("""
            source '\(completion)'; COMP_WORDS=(migscope rep); COMP_CWORD=1; COMP_LINE='migscope rep'; COMP_POINT=${#COMP_LINE}
            _migscope migscope rep migscope; echo "${COMPREPLY[*]}"
            """, env: ["PATH": prefix + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        XCTAssertEqual(sub.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").sorted(), ["report", "reproduce"], sub.err)
        let ids = try sh("""
            source '\(completion)'; COMP_WORDS=(migscope report --db '\(db)' ''); COMP_CWORD=4; COMP_LINE="migscope report --db \(db) "; COMP_POINT=${#COMP_LINE}
            _migscope migscope '' '\(db)'; echo "${COMPREPLY[*]}"
            """, env: ["PATH": prefix + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        XCTAssertEqual(ids.out.trimmingCharacters(in: .whitespacesAndNewlines), "1 2 3", ids.err)

        let bad = try sh("bash scripts/install.sh --prefx /tmp/x")
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.err.contains("unknown argument '--prefx'"), bad.err)
    }
}
