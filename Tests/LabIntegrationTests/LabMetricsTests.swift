import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MigscopeCore
import XCTest

@testable import MigscopeLab

/// Live metrics, scraped for real: Debian's Prometheus scrapes `migscope migrate --metrics-listen`
/// each second during a lab migration, and its own query API must then hold a decreasing
/// remaining-memory series, the round counter and the completed phase. The same migration writes
/// `--metrics-file`, whose last text must say the migration completed.
final class LabMetricsTests: XCTestCase {
    var dir: String!
    var prometheus: Process?
    let a = LabMachine.hostA, b = LabMachine.hostB
    let guest = LabLayout.guestName

    override func setUp() async throws {
        guard let binary = Self.prometheusBinary else {
            throw XCTSkip("no prometheus binary (/usr/bin/prometheus): scripts/install-deps.sh installs Debian's")
        }
        _ = binary
        try await LabFixture.ensureUp(for: Self.self)
        dir = NSTemporaryDirectory() + "/migscope-metrics-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // A guest that fills its page cache with the disk's random data over a shared link: its
        // first round takes seconds, so Prometheus sees memory remaining go down, scrape by scrape.
        _ = try Lab.set(bandwidth: .mbit(100), link: .shared)
        try await Lab.startGuest(on: .hostA, memoryMiB: 128, workload: Workload(mode: .buffered, blockSizeKiB: 1024, amountMiB: 0))
    }

    override func tearDown() async throws {
        if let prometheus, prometheus.isRunning {
            prometheus.terminate()
            prometheus.waitUntilExit()
        }
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    static var prometheusBinary: String? {
        ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A port nobody listens on now (the kernel's pick, released at once).
    func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw LabError("cannot find a free port on loopback") }
        return UInt16(bigEndian: addr.sin_port)
    }

    func get(_ url: String) async throws -> (status: Int, body: Data) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// The values of a range query's first series, oldest first.
    func rangeValues(_ api: String, _ query: String, from start: Date, to end: Date) async throws -> [Double] {
        var c = URLComponents(string: api + "/api/v1/query_range")!
        c.queryItems = [.init(name: "query", value: query), .init(name: "start", value: "\(Int(start.timeIntervalSince1970))"),
                        .init(name: "end", value: "\(Int(end.timeIntervalSince1970) + 1)"), .init(name: "step", value: "1")]
        let (status, body) = try await get(c.url!.absoluteString)
        XCTAssertEqual(status, 200, String(decoding: body, as: UTF8.self))
        let json = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let result = ((json?["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        guard let values = result.first?["values"] as? [[Any]] else { return [] }
        return values.compactMap { ($0.last as? String).flatMap(Double.init) }
    }

    func testPrometheusScrapesTheMigrationsRemainingMemoryRoundsAndPhase() async throws {
        let migscopePort = try freePort(), prometheusPort = try freePort()
        let config = dir + "/prometheus.yml"
        try """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: migscope
                static_configs:
                  - targets: ['127.0.0.1:\(migscopePort)']
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.prometheusBinary!)
        p.arguments = ["--config.file=\(config)", "--storage.tsdb.path=\(dir!)/tsdb", "--web.listen-address=127.0.0.1:\(prometheusPort)"]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        prometheus = p
        let api = "http://127.0.0.1:\(prometheusPort)"
        var ready = false
        for _ in 0..<60 where !ready {
            ready = ((try? await get(api + "/-/ready"))?.status == 200)
            if !ready { try await Task.sleep(for: .milliseconds(500)) }
        }
        XCTAssertTrue(ready, "Prometheus did not become ready within 30 s")

        let start = Date()
        let file = dir + "/migscope.prom"
        let r = try ProcessRun.run(ProcessRun.migscope, [
            "migrate", guest, "--from", a.libvirtURI, "--to", b.libvirtURI, "--p2p", "--live", "--record", "--db", dir + "/r.sqlite",
            "--baseline", "10", "--tail", "3", "--pause-after-rounds", "3", "--metrics-listen", "127.0.0.1:\(migscopePort)", "--metrics-file", file,
        ])
        let end = Date()
        XCTAssertEqual(r.status, 0, r.err)
        // From outside migscope: the guest runs on B alone.
        let states = try [a, b].map { h in
            try Command.run(["virsh", "-c", h.libvirtURI, "domstate", guest], check: false, timeout: 30).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(states[1], "running", "virsh on host B")
        XCTAssertNotEqual(states[0], "running", "virsh on host A")

        let remaining = try await rangeValues(api, "migscope_migration_memory_remaining_bytes{domain=\"\(guest)\"}", from: start, to: end)
        XCTAssertGreaterThanOrEqual(remaining.count, 5, "Prometheus kept too few samples of remaining memory: \(remaining)")
        let decreases = zip(remaining, remaining.dropFirst()).filter { $1 < $0 }.count
        XCTAssertGreaterThanOrEqual(decreases, 3, "remaining memory did not decrease as the migration ran: \(remaining)")
        XCTAssertGreaterThan(remaining.first ?? 0, remaining.last ?? 0, "\(remaining)")
        let rounds = try await rangeValues(api, "migscope_migration_round", from: start, to: end)
        XCTAssertGreaterThanOrEqual(rounds.max() ?? 0, 1, "no round counter scraped: \(rounds)")
        let total = try await rangeValues(api, "migscope_migration_memory_total_bytes", from: start, to: end)
        XCTAssertGreaterThan(total.last ?? 0, 100 * 1_048_576, "the 128 MiB guest's memory total: \(total)")

        // The run describes itself: the software on both daemons, their kernels, the accelerator, the guest.
        let listed = try ProcessRun.run(ProcessRun.migscope, ["runs", "--json", "--db", dir + "/r.sqlite"])
        let runs = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]])
        let software = try XCTUnwrap(runs.last?["software"] as? [String: Any], listed.out)
        let hosts = try XCTUnwrap(software["hosts"] as? [[String: Any]])
        XCTAssertEqual(hosts.count, 2, listed.out)
        XCTAssertTrue(hosts.allSatisfy { ($0["libvirt_version"] as? String)?.isEmpty == false && $0["kernel"] is String && $0["hypervisor_version"] is String }, listed.out)
        XCTAssertEqual(software["migscope"] as? String, MigscopeVersion.current)
        XCTAssertTrue(["kvm", "tcg"].contains(runs.last?["accelerator"] as? String ?? ""), listed.out)
        XCTAssertEqual((runs.last?["guest"] as? [String: Any])?["virtual_cpus"] as? Int, 1, listed.out)

        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(text.contains("phase=\"completed\"} 1.0"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/.migscope.prom.\(p.processIdentifier).tmp"))
    }
}
