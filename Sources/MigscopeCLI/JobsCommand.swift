import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeLibvirt

/// `migscope jobs [--on URI...]`: the migrations libvirt hosts are busy with, and whether a
/// migscope still watches each (a p2p migration outlives a migscope that was killed).
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the migration jobs running on libvirt hosts, and whether a migscope is attached to each.",
        discussion: """
            An outgoing job is the source's; an incoming copy is the paused domain on the destination that the \
            memory arrives in. 'nobody' means no migscope watches it: its time limits and mitigations are gone; \
            'migscope attach' watches it to its end, 'migscope abort' stops it.
            """)

    @OptionGroup var hosts: HostsOption

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let jobs = try await MigrationJobs.list(on: try hosts.hosts())
        if json {
            print(try JSONText.encode(jobs))
            return
        }
        if jobs.isEmpty {
            print("no migration jobs on \(try hosts.hosts().map(HostURI.redacted).joined(separator: ", "))")
            return
        }
        let rows = jobs.map { j in
            [j.domain, j.direction.rawValue, HostURI.redacted(j.host), j.elapsedSeconds.map(Format.seconds) ?? "-",
             j.round.map(String.init) ?? "-", j.memoryRemainingBytes.map { Format.bytes(Double($0)) } ?? "-",
             j.rateBytesPerSecond.map { Format.rate(Double($0)) } ?? "-", j.watcher]
        }
        print(TextTable.render(header: ["domain", "direction", "host", "elapsed", "round", "remaining", "rate", "watched by"], rows: rows))
    }
}
