import Foundation
import MigscopeCore
import XCTest
@testable import MigscopeCLI

/// The `migscope` binary run as a user runs it: exit status, stdout, stderr.
final class CLITests: XCTestCase {
    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    static var binary: URL {
        // The test bundle sits next to the products it was built with.
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("migscope")
    }

    static var fixtureHost: String {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/test-node.xml").path
        return "test://" + path
    }

    func migscope(_ args: String...) throws -> Result { try migscope(args) }

    func migscope(_ args: [String], environment extra: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        if !extra.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 } }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func assertOneLineError(_ r: Result, status: Int32, contains: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, "stderr: \(r.err)", file: file, line: line)
        let lines = r.err.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(r.err)", file: file, line: line)
        XCTAssertTrue(r.err.hasPrefix("migscope: error: "), r.err, file: file, line: line)
        for c in contains { XCTAssertTrue(r.err.contains(c), "'\(c)' not in: \(r.err)", file: file, line: line) }
        XCTAssertFalse(r.err.contains("Fatal error"), file: file, line: line)
    }

    func testTheLibxlBackendOutsideADom0SaysSoInOneLine() throws {
        if FileManager.default.fileExists(atPath: "/proc/xen/capabilities") { throw XCTSkip("this machine may be a Xen dom0") }
        assertOneLineError(try migscope("migrate", "guest", "--backend", "libxl", "--to", "localhost"), status: 1, contains: "not a Xen dom0")
        assertOneLineError(try migscope("xen-receive", "--stdio"), status: 1, contains: "not a Xen dom0")
    }

    /// A database the previous migscope made (schema 1) lists the same runs, migrated on the way.
    func testAVersion1DatabaseListsTheSameRunsAsBefore() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MigscopeStoreTests/Fixtures")
        let copy = NSTemporaryDirectory() + "migscope-v1-\(UUID().uuidString).sqlite"
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("schema-v1.sqlite").path, toPath: copy)
        defer { for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: copy + suffix) } }
        let listed = try migscope("runs", "--db", copy)
        XCTAssertEqual(listed.status, 0, listed.err)
        let before = try String(contentsOf: fixtures.appendingPathComponent("schema-v1.runs.txt"), encoding: .utf8)
        // The same rows as before, and the failed run's reason under the table (added since).
        XCTAssertEqual(listed.out, before)
        let json = try migscope("runs", "--db", copy, "--json")
        let runs = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(runs.count, 3)
        XCTAssertTrue(runs.allSatisfy { ($0["uuid"] as? String)?.count == 36 && $0["created_at"] != nil && $0["createdAt"] == nil }, json.out)
    }

    /// LIBVIRT_DEFAULT_URI is the source when --from is not given, as virsh takes it, and is
    /// checked as --from would be (a URI that would run a program is refused, naming the variable).
    func testLibvirtDefaultURIStandsInForFromAndIsCheckedLikeIt() throws {
        let marker = NSTemporaryDirectory() + "migscope-env-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        assertOneLineError(try migscope(["migrate", "g", "--to", "test:///default"], environment: ["LIBVIRT_DEFAULT_URI": "qemu+ext:///system?command=/bin/touch%20" + marker]),
                           status: 2, contains: "LIBVIRT_DEFAULT_URI qemu+ext", "refused")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "nothing ran")
        // Taken as the source: the destination is then the source itself.
        assertOneLineError(try migscope(["migrate", "test", "--to", "test:///default", "--live"], environment: ["LIBVIRT_DEFAULT_URI": "test:///default"]),
                           status: 2, contains: "is the source itself")
        assertOneLineError(try migscope(["migrate", "test", "--to", "test:///default"], environment: ["LIBVIRT_DEFAULT_URI": ""]),
                           status: 2, contains: "--from is missing (and LIBVIRT_DEFAULT_URI is not set)")
    }

    func testLibvirtDefaultURIStandsInForOnWhereAHostIsLookedAt() throws {
        let domains = try migscope(["domains", "--json"], environment: ["LIBVIRT_DEFAULT_URI": "test:///default"])
        XCTAssertEqual(domains.status, 0, domains.err)
        XCTAssertTrue(domains.out.contains("\"name\" : \"test\""), domains.out)
        assertOneLineError(try migscope(["jobs"], environment: ["LIBVIRT_DEFAULT_URI": "qemu+ext:///system?command=/bin/true"]),
                           status: 2, contains: "LIBVIRT_DEFAULT_URI qemu+ext", "refused")
        assertOneLineError(try migscope(["attach", "test"], environment: ["LIBVIRT_DEFAULT_URI": ""]), status: 2, contains: "--on is missing")
        assertOneLineError(try migscope(["domains"], environment: ["LIBVIRT_DEFAULT_URI": ""]), status: 2, contains: "--on is missing")
    }

    /// `--version` as `virsh version` answers: migscope, the libvirt library, and a named host's daemon and hypervisor.
    func testVersionNamesTheLibrariesAndEachHostsDaemon() throws {
        let short = try migscope("--version")
        XCTAssertEqual(short.status, 0, short.err)
        XCTAssertTrue(short.out.hasPrefix("migscope 0."), short.out)
        XCTAssertTrue(short.out.contains("Compiled against library: libvirt "), short.out)
        let r = try migscope("version", "--on", "test:///default", "--json")
        XCTAssertEqual(r.status, 0, r.err)
        let v = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let host = try XCTUnwrap((v["hosts"] as? [[String: Any]])?.first)
        XCTAssertEqual(host["driver"] as? String, "TEST")
        XCTAssertNotNil(host["libvirt_version"] as? String)
        XCTAssertEqual(host["libvirt_version"] as? String, v["libvirt_library"] as? String, "the test driver runs in this process's library")
        assertOneLineError(try migscope("version", "--on", "qemu+ext:///system?command=/bin/true"), status: 2, contains: "refused")
    }

    /// The lab's link rate has its own name; the old spelling is refused with the new one.
    func testTheLabsOldBandwidthOptionIsRefusedWithItsNewName() throws {
        for sub in ["up", "set"] {
            assertOneLineError(try migscope("lab", sub, "--bandwidth", "10mbit"), status: 2, contains: "--bandwidth is now --link-rate")
        }
        assertOneLineError(try migscope("lab", "set", "--link-rate", "5kbit"), status: 2, contains: "use 100kbit to 10gbit")
    }

    func testLibxlOptionsThatCannotApplyAreRefusedWithTheReason() throws {
        assertOneLineError(try migscope("migrate", "guest", "--backend", "libxl", "--from", "qemu:///system", "--to", "localhost"),
                           status: 2, contains: "migrates from the Xen host it runs on")
        // Refused from the backend's declaration before anything is opened: bad input, status 2.
        assertOneLineError(try migscope("migrate", "guest", "--backend", "libxl", "--to", "localhost", "--bandwidth", "5"),
                           status: 2, contains: "--bandwidth: libxl has no cap on the migration stream")
        assertOneLineError(try migscope("migrate", "guest", "--backend", "libxl", "--to", "localhost", "--p2p"),
                           status: 2, contains: "--p2p: a libvirt option")
        assertOneLineError(try migscope("migrate", "guest", "--backend", "libxl", "--to", "hostB:http"), status: 2, contains: "port must be a number")
        assertOneLineError(try migscope("migrate", "guest", "--to", "qemu:///system"), status: 2, contains: "--from is missing")
        assertOneLineError(try migscope("xen-receive"), status: 2, contains: "--listen ADDR:PORT or --stdio")
    }

    func testVersionAndHelp() throws {
        let v = try migscope("--version")
        XCTAssertEqual(v.status, 0)
        XCTAssertEqual(v.out.split(separator: "\n").first, "migscope 0.1.0")
        let h = try migscope("help", "migrate")
        XCTAssertEqual(h.status, 0)
        XCTAssertTrue(h.out.contains("USAGE: migscope migrate"), h.out)
        XCTAssertTrue(h.out.contains("--abort-after"), h.out)
        let top = try migscope("--help")
        XCTAssertEqual(top.status, 0)
        XCTAssertTrue(top.out.contains("SUBCOMMANDS"), top.out)
    }

    func testDomainsListsAndShowsFromTheTestDriver() throws {
        let list = try migscope("domains", "--on", "test:///default")
        XCTAssertEqual(list.status, 0, list.err)
        XCTAssertTrue(list.out.contains("test"), list.out)
        XCTAssertTrue(list.out.contains("running"), list.out)
        let one = try migscope("domains", "--on", Self.fixtureHost, "guest-off", "--json")
        XCTAssertEqual(one.status, 0, one.err)
        let json = try JSONSerialization.jsonObject(with: Data(one.out.utf8)) as? [String: Any]
        XCTAssertEqual(json?["name"] as? String, "guest-off")
        XCTAssertEqual(json?["state"] as? String, "shut off")
        XCTAssertEqual(json?["memory_bytes"] as? Int, 128 << 20)
    }

    func testUnknownDomainIsARuntimeError() throws {
        assertOneLineError(try migscope("migrate", "nope", "--from", "test:///default", "--to", "qemu:///system"), status: 1, contains: "no domain 'nope'", "test:///default")
        assertOneLineError(try migscope("domains", "--on", "test:///default", "nope"), status: 1, contains: "no domain 'nope'")
    }

    func testADomainThatIsNotRunningIsRefusedBeforeAnythingStarts() throws {
        assertOneLineError(try migscope("migrate", "guest-off", "--from", Self.fixtureHost, "--to", "qemu:///system"), status: 1, contains: "'guest-off' is shut off", "start it")
    }

    func testAnUnreachableURIIsARuntimeError() throws {
        assertOneLineError(try migscope("migrate", "g", "--from", "nosuchdriver:///system", "--to", "qemu:///system"), status: 1, contains: "cannot connect to source nosuchdriver:///system")
        assertOneLineError(try migscope("migrate", "g", "--from", "qemu+unix:///system?socket=/run/libvirt/nonexistent-sock", "--to", "qemu:///system"), status: 1, contains: "cannot connect to source")
    }

    func testDestinationEqualToSourceIsAUsageError() throws {
        assertOneLineError(try migscope("migrate", "test", "--from", "test:///default", "--to", "TEST:///default/"), status: 2, contains: "is the source itself")
    }

    func testBadNumbersAreUsageErrorsNamingTheValue() throws {
        for (option, value, expected) in [
            ("--bandwidth", "0", "whole number of MiB/s from 1 to 1000000, got '0'"),
            ("--bandwidth", "-5", "got '-5'"),
            ("--bandwidth", "fast", "got 'fast'"),
            ("--max-downtime", "0", "milliseconds from 1 to 3600000, got '0'"),
            ("--max-downtime", "1.5x", "got '1.5x'"),
            ("--timeout", "-1", "seconds from 0.001 to 604800, got '-1'"),
            ("--abort-after", "never", "seconds from 0.001 to 604800, got 'never'"),
            ("--timeout", "1e21", "got '1e21'"),
            ("--timeout", "inf", "got 'inf'"),
            ("--abort-after", "nan", "got 'nan'"),
            ("--bandwidth", "9223372036854775808", "got '9223372036854775808'"),
            ("--bandwidth", "10000000000000000", "got '10000000000000000'"),
            ("--max-downtime", "1e16", "got '1e16'"),
            ("--poll-interval", "5", "from 20 to"),
            ("--baseline", "1e16", "got '1e16'"),
            ("--tail", "-1", "got '-1'"),
            ("--pause-after-rounds", "0", "rounds from 1 to 1000"),
        ] {
            assertOneLineError(try migscope("migrate", "test", "--from", "test:///default", "--to", "qemu:///system", option, value), status: 2, contains: option, expected)
        }
    }

    /// A URI or a destination is data: nothing in it may make libvirt or ssh run a program.
    func testURIsAndDestinationsThatWouldRunAProgramAreRefusedAndRunNothing() throws {
        let marker = NSTemporaryDirectory() + "/migscope-marker-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let cases: [([String], String)] = [
            (["migrate", "g", "--from", "qemu+ext:///system?command=/usr/bin/touch%20\(marker)", "--to", "qemu:///system"], "--allow-ext-transport"),
            (["migrate", "g", "--from", "qemu:///system", "--to", "qemu+ssh://h/system?netcat=/usr/bin/touch"], "names a program"),
            (["migrate", "g", "--from", "qemu+unix:///system?socket=/tmp/evil.sock", "--to", "qemu:///system"], "outside libvirt's own folders"),
            (["domains", "--on", "qemu+ext:///system?command=/usr/bin/touch"], "--allow-ext-transport"),
            (["migrate", "g", "--backend", "libxl", "--to", "ssh://-oProxyCommand=touch%20\(marker)"], "not starting with '-'"),
            (["migrate", "g", "--backend", "libxl", "--to", "ssh://root@host name"], "give ssh://[USER@]HOST"),
        ]
        for (args, expected) in cases {
            let r = try migscope(args)
            assertOneLineError(r, status: 2, contains: expected)
        }
        // The same in a plan, refused at its line before anything runs.
        let plan = NSTemporaryDirectory() + "/migscope-plan-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: plan) }
        try """
            name: evil
            hosts: {source: 'qemu+ext:///system?command=/usr/bin/touch%20\(marker)', destination: 'qemu+tcp://b/system', domain: g}
            matrix: {mode: [live], link_rate: [none]}
            """.write(toFile: plan, atomically: true, encoding: .utf8)
        let r = try migscope(["batch", plan, "--db", NSTemporaryDirectory() + "/migscope-evil-\(UUID().uuidString).sqlite"])
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains(":2:") && r.err.contains("--allow-ext-transport"), r.err)
        let xenPlan = """
            name: evil-ssh
            hosts: {backend: libxl, destination: 'ssh://-oProxyCommand=touch \(marker)', domain: g}
            matrix: {mode: [live], link_rate: [none]}
            """
        try xenPlan.write(toFile: plan, atomically: true, encoding: .utf8)
        let x = try migscope(["batch", plan])
        XCTAssertEqual(x.status, 2, x.err)
        XCTAssertTrue(x.err.contains("not starting with '-'"), x.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    /// A receiver restores domains as root: it listens only on an address it was given, and only
    /// with a key that senders must prove.
    func testAXenReceiverNeedsAnExplicitAddressAndAKey() throws {
        let dir = NSTemporaryDirectory() + "/migscope-cli-key-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        assertOneLineError(try migscope("xen-receive", "--listen", "127.0.0.1:8002", "--key", dir + "/none"), status: 2, contains: "--listen needs the migration key", "--init-key")
        assertOneLineError(try migscope("xen-receive", "--listen", "8002"), status: 2, contains: "give this host's address and a port")
        assertOneLineError(try migscope("xen-receive", "--listen", ":8002"), status: 2, contains: "give this host's address and a port")
        let made = try migscope("xen-receive", "--init-key", "--key", dir + "/k")
        XCTAssertEqual(made.status, 0, made.err)
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: dir + "/k")[.posixPermissions] as? Int).map { $0 & 0o777 }, 0o600)
        assertOneLineError(try migscope("migrate", "g", "--backend", "libxl", "--to", "127.0.0.1:8002", "--key", dir + "/none"), status: 2, contains: "needs the receiver's key")
        let help = try migscope("xen-receive", "--help")
        XCTAssertFalse(help.out.contains("0.0.0.0"), help.out)
    }

    func testLabSizesAreCheckedBeforeAnythingIsBuilt() throws {
        for (option, value) in [("--guest-memory", "9223372036854775808"), ("--disk-size", "1e16"), ("--read-amount", "-1"), ("--block-size", "inf")] {
            assertOneLineError(try migscope("lab", "up", "\(option)=\(value)"), status: 2, contains: option, "got '\(value)'")
        }
    }

    func testMissingArgumentsAreUsageErrors() throws {
        assertOneLineError(try migscope("migrate", "test", "--from", "test:///default"), status: 2, contains: "--to")
        assertOneLineError(try migscope("migrate", "test", "--to", "qemu:///system", "--live", "--non-live"), status: 2)
        assertOneLineError(try migscope("frobnicate"), status: 2)
    }

    func testTheTestDriverCannotMigrateAndTheErrorSaysSoWithoutPretending() throws {
        // The test driver has no migration support; migscope must say it failed, not invent a result.
        let r = try migscope("migrate", "guest-on", "--from", Self.fixtureHost, "--to", "test:///default", "--p2p")
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertFalse(r.out.contains("completed"), r.out)
    }

    func testProgressJSONIsOneObjectPerLineEndingWithTheResultAndQuietSilencesNotes() throws {
        let r = try migscope("migrate", "guest-on", "--from", Self.fixtureHost, "--to", "test:///default", "--p2p", "--progress", "json")
        XCTAssertEqual(r.status, 1, r.err)
        let lines = r.out.split(separator: "\n").map(String.init)
        let objects = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "not one JSON object: \($0)") }
        XCTAssertEqual(objects.first?["type"] as? String, "migration-started", r.out)
        XCTAssertTrue(objects.contains { $0["type"] as? String == "migration-finished" && $0["status"] as? String == "failed" }, r.out)
        let result = try XCTUnwrap(objects.last?["result"] as? [String: Any], r.out)
        XCTAssertEqual(objects.last?["type"] as? String, "result")
        XCTAssertEqual(result["outcome"] as? String, "failed")
        XCTAssertEqual(result["location"] as? String, "source")

        // Not a terminal, default style: no progress line, the notes and the error on stderr, the summary on stdout.
        let plain = try migscope("migrate", "guest-on", "--from", Self.fixtureHost, "--to", "test:///default", "--p2p")
        XCTAssertTrue(plain.err.contains("migscope: migrating 'guest-on'"), plain.err)
        XCTAssertFalse(plain.err.contains(" | "), "no progress line when not a terminal: \(plain.err)")
        XCTAssertTrue(plain.out.contains("migration of 'guest-on': failed"), plain.out)
        // -q: the result and the error only.
        let quiet = try migscope("migrate", "guest-on", "--from", Self.fixtureHost, "--to", "test:///default", "--p2p", "-q")
        XCTAssertEqual(quiet.err.split(separator: "\n").count, 1, quiet.err)
        XCTAssertTrue(quiet.err.hasPrefix("migscope: error: migration failed"), quiet.err)
        // The same summary (its time may round differently: 0.00 s one run, 0.01 s the next).
        let untimed = { (text: String) in text.split(separator: "\n").filter { !$0.contains("total time:") } }
        XCTAssertEqual(untimed(quiet.out), untimed(plain.out))
        assertOneLineError(try migscope("migrate", "guest-on", "--from", Self.fixtureHost, "--to", "test:///default", "-q", "-v"), status: 2, contains: "--quiet")
        assertOneLineError(try migscope("migrate", "guest-on", "--from", Self.fixtureHost, "--to", "test:///default", "--progress", "bars"), status: 2, contains: "--progress")
    }

    func testADrainShowsALinePerDomainWaitingMovingOrEnded() {
        let p = JobProgress(iteration: 2, memoryTotalBytes: 1 << 30, memoryProcessedBytes: 1 << 29, memoryRemainingBytes: 1 << 29)
        let entries: [DrainBoard.Entry] = [
            .init(domain: "web-1", destination: "qemu+ssh://root:pw@b/system", state: .ended("completed in 9.00 s; it runs on the destination")),
            .init(domain: "database", destination: "qemu:///b", state: .migrating(since: 10, progress: p)),
            .init(domain: "cache", destination: "qemu:///b", state: .migrating(since: 13, progress: nil)),
            .init(domain: "batch", destination: "qemu:///b", state: .waiting),
        ]
        let lines = DrainBoard.lines(entries, now: 14, width: nil)
        XCTAssertEqual(lines.count, 4, "\(lines)")
        XCTAssertTrue(lines[0].hasPrefix("web-1    -> "), lines[0])
        XCTAssertFalse(lines[0].contains("pw"), "a URI's password is never shown: \(lines[0])")
        XCTAssertTrue(lines[0].hasSuffix("completed in 9.00 s; it runs on the destination"), lines[0])
        XCTAssertTrue(lines[1].contains("round 2 | 50.0 %") && lines[1].hasSuffix("4.00 s"), lines[1])
        XCTAssertTrue(lines[2].hasSuffix("starting | 1.00 s"), lines[2])
        XCTAssertTrue(lines[3].hasSuffix("waiting"), lines[3])
        let arrows = Set(lines.map { $0.distance(of: " -> ") })
        XCTAssertEqual(arrows.count, 1, "the destinations line up: \(lines)")
        for l in DrainBoard.lines(entries, now: 14, width: 40) { XCTAssertLessThanOrEqual(l.count, 40, l) }
    }

    func testTheProgressLineFitsTheTerminalLeavingOutTheLeastTellingPartsFirst() {
        let p = JobProgress(iteration: 3, dirtyRatePagesPerSecond: 1200, pageSizeBytes: 4096, memoryTotalBytes: 1 << 30,
                            memoryProcessedBytes: 1 << 29, memoryRemainingBytes: 1 << 29, memoryBytesPerSecond: 11_000_000)
        let full = ProgressLine.render(p, elapsed: 12.3)
        XCTAssertTrue(full.contains("stream ") && full.contains("dirty "), full)
        XCTAssertEqual(ProgressLine.render(p, elapsed: 12.3, width: 200), full)
        let narrow = ProgressLine.render(p, elapsed: 12.3, width: 50)
        XCTAssertLessThanOrEqual(narrow.count, 50)
        XCTAssertFalse(narrow.contains("stream "), narrow)
        XCTAssertTrue(narrow.hasPrefix("round 3 | 50.0 %"), narrow)
        XCTAssertEqual(ProgressLine.render(p, elapsed: 12.3, width: 10).count, 10)
    }

    func testEveryUsageErrorExits2WhicheverPartFindsIt() throws {
        let dir = NSTemporaryDirectory() + "migscope-status-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = dir + "/r.sqlite"
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MigscopeStoreTests/Fixtures/schema-v1.sqlite").path
        XCTAssertEqual(try migscope("merge", db, fixture).status, 0)
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        let cases: [([String], String)] = [
            (["migrate", "g", "--from", "qemu:///system", "--to", "notauri"], "--to notauri: is not a URI"),
            (["migrate", "g", "--from", "qemu:///system", "--to", "qemu+tcp://h:99999/system"], "port 99999"),
            (["version", "--on", "nota uri"], "--on nota uri"),
            (["export", "99", "--out", dir + "/x", "--db", db], "no run 99"),
            (["report", "99", "--out", dir + "/x", "--db", db], "no run 99"),
            (["merge", dir + "/out.sqlite", dir + "/notes.txt"], "notes.txt"),
            (["merge", dir + "/out.sqlite"], "at least one database"),
            (["batch", dir + "/notes.txt"], "notes.txt"),
            (["migrate", "g", "--backend", "libxl", "--to", "localhost", "--bandwidth", "5"], "--bandwidth"),
        ]
        for (args, words) in cases {
            assertOneLineError(try migscope(args), status: 2, contains: words)
        }
        // 'xen' is no URI but a host name (this dom0 through libxl): outside a dom0 that is a runtime failure, not bad usage.
        let xen = try migscope("domains", "--on", "xen")
        XCTAssertEqual(xen.status, 1, xen.err)
        XCTAssertFalse(xen.err.contains("is not a URI"), xen.err)
    }

    func testDirtyrateAndPredictRefuseWhatCannotBeMeasuredInOneLine() throws {
        assertOneLineError(try migscope("dirtyrate", "test", "--on", "xen"), status: 2, contains: "cannot be measured in place on Xen")
        assertOneLineError(try migscope("dirtyrate", "test", "--on", "test:///default", "--seconds", "0,2"), status: 2, contains: "--seconds")
        assertOneLineError(try migscope("dirtyrate", "test", "--on", "test:///default", "--seconds", "1,2,3,4,5,6,7,8,9"), status: 2, contains: "--seconds")
        assertOneLineError(try migscope("dirtyrate", "test", "--on", "test:///default", "--repeat", "0"), status: 2, contains: "--repeat")
        assertOneLineError(try migscope("predict", "test", "--from", "test:///default", "--to", "qemu:///system", "--repeat", "21"), status: 2, contains: "--repeat")
        // The test driver cannot measure: a runtime failure naming the call, not a made-up rate.
        let r = try migscope("dirtyrate", "test", "--on", "test:///default", "--json")
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("cannot measure the dirty rate of 'test'"), r.err)
        XCTAssertEqual(r.out, "")
        assertOneLineError(try migscope("predict", "test", "--from", "test:///default", "--to", "qemu:///system"), status: 2, contains: "--link-rate")
        assertOneLineError(try migscope("migrate", "g", "--backend", "libxl", "--to", "localhost", "--predict"), status: 2, contains: "--predict")
        assertOneLineError(try migscope("migrate", "g", "--from", "test:///default", "--to", "qemu:///system", "--dirty-rate", "3"), status: 2, contains: "--predict")
        assertOneLineError(try migscope("predict", "test", "--from", "test:///default", "--to", "qemu:///system", "--working-set", "64"), status: 2, contains: "--dirty-rate")
        assertOneLineError(try migscope("predict", "test", "--from", "test:///default", "--to", "qemu:///system", "--dirty-rate", "-1"), status: 2, contains: "--dirty-rate")
        assertOneLineError(try migscope("predict", "test", "--from", "xen", "--to", "hostb", "--link-rate", "1gbit"), status: 2, contains: "--dirty-rate")
        assertOneLineError(try migscope("predict", "test", "--from", "xen", "--to", "hostb", "--dirty-rate", "1", "--bandwidth", "10"), status: 2, contains: "--bandwidth")
        assertOneLineError(try migscope("predict", "test", "--from", "test:///default", "--to", "qemu:///system", "--probe-stream", "--dirty-rate", "1"), status: 2, contains: "--probe-stream")
    }

    /// A drain's refusals, each before anything moves: what to move, the hosts, a domain that is not
    /// running there, and one that fits on no destination (the test driver's node has 3 MiB free).
    func testADrainRefusesWhatItCannotDoBeforeAnythingMoves() throws {
        let f = Self.fixtureHost
        assertOneLineError(try migscope("drain", "--from", f, "--to", "test:///default"), status: 2, contains: "--domains a,b,... or --all")
        assertOneLineError(try migscope("drain", "--from", f, "--to", f, "--all"), status: 2, contains: "is the host being drained")
        assertOneLineError(try migscope("drain", "--from", f, "--all"), status: 2, contains: "--to is missing")
        assertOneLineError(try migscope("drain", "--from", f, "--to", "test:///default", "--all", "--concurrency", "0"), status: 2, contains: "--concurrency")
        assertOneLineError(try migscope("drain", "--from", f, "--to", "test:///default", "--domains", "a,,b"), status: 2, contains: "--domains")
        assertOneLineError(try migscope("drain", "--from", f, "--to", "test:///default", "--domains", "guest-on,nope"), status: 1, contains: "not running on")
        assertOneLineError(try migscope("drain", "--from", f, "--to", "test:///default", "--all"), status: 1, contains: "no destination has that free")
    }

    /// A prediction through libvirt's test driver, end to end, with the dirty rate given (the test
    /// driver cannot measure one): its domain's memory, the link given, QEMU's rules.
    func testPredictWithAGivenDirtyRateOnTheTestDriver() throws {
        let r = try migscope("predict", "test", "--from", "test:///default", "--to", "qemu:///system", "--link-rate", "1gbit",
                             "--dirty-rate", "10", "--setup-seconds", "1.5", "--switchover-ms", "40", "--json")
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], r.out)
        let inputs = try XCTUnwrap(json["inputs"] as? [String: Any])
        let memory = try XCTUnwrap(inputs["memory_bytes"] as? Double)
        XCTAssertGreaterThan(memory, 0, "the test driver's domain has memory")
        XCTAssertEqual(inputs["stream_bytes_per_second"] as? Double, 125e6)
        XCTAssertEqual((inputs["dirtying"] as? [String: Any])?["bytes_per_second"] as? Double, 10 * 1_048_576)
        XCTAssertEqual((json["dirty_rate"] as? [String: Any])?["method"] as? String, "given")
        XCTAssertEqual(json["stream_rate_from"] as? String, "--link-rate 1gbit")
        let p = try XCTUnwrap(json["prediction"] as? [String: Any])
        let seconds = try XCTUnwrap(p["migration_seconds"] as? Double)
        // 10 MiB/s against 125 MB/s converges; at least the written memory over the link plus the
        // setup (the test driver's balloon statistics say how much it leaves unused).
        let zero = inputs["zero_bytes"] as? Double ?? 0
        XCTAssertLessThan(zero, memory)
        XCTAssertGreaterThanOrEqual(seconds, (memory - zero) / 125e6 + 1.5)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(p["downtime_ms"] as? Double), 40)
        let text = try migscope("predict", "test", "--from", "test:///default", "--to", "qemu:///system", "--link-rate", "1gbit", "--dirty-rate", "10")
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.contains("dirty rate given: 10.0 MiB/s") && text.out.contains("prediction: converges by itself"), text.out)
    }
}

private extension String {
    func distance(of needle: String) -> Int? { range(of: needle).map { distance(from: startIndex, to: $0.lowerBound) } }
}
