import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeLibvirt

/// `migscope recover [DOMAIN] [--on URI...]`: clears what an interrupted libvirt migration left, where
/// that is provable, and reports the rest (`xen-recover` does the same for libxl's journal).
struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Remove the paused copies an interrupted libvirt migration left on a destination, where provably leftovers; report the rest.",
        discussion: """
            A copy paused while starting up on one host is destroyed only when another host runs the domain and \
            no job connects them (looked at twice, two seconds apart). Two running copies, none, or a job still \
            running are reported, never decided. For Xen hosts, see 'migscope xen-recover'.
            """)

    @Argument(help: "A domain's name or UUID; without it, every domain with a paused incoming copy or an orphaned journal entry.")
    var domain: String?

    @OptionGroup var hosts: HostsOption

    @Flag(help: "Print JSON instead of sentences.")
    var json = false

    func run() async throws {
        let findings = try await MigrationLeftovers.recover(domain, on: try hosts.hosts())
        if json {
            print(try JSONText.encode(findings))
        } else if findings.isEmpty {
            print("nothing left by an interrupted migration on \(try hosts.hosts().map(HostURI.redacted).joined(separator: ", "))")
        } else {
            for f in findings { print("'\(f.domain)': \(f.detail)") }
        }
        if findings.contains(where: { $0.action == .reported }) { throw ExitCode(1) }
    }
}
