import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeLibvirt

/// `migscope abort DOMAIN --on URI`: stops the outgoing migration of a domain, whoever started it.
struct AbortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract: "Abort a domain's running migration on its source host and say where the domain runs afterwards.")

    @Argument(help: "Name or UUID of the migrating domain.")
    var domain: String

    @Option(name: .customLong("on"), help: ArgumentHelp("libvirt URI of the migration's source host.", valueName: "uri"))
    var host: String

    @Flag(name: .customLong("allow-ext-transport"), help: "Accept a URI that makes libvirt run a program or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    @Flag(help: "Print JSON instead of a sentence.")
    var json = false

    func validate() throws {
        if let why = LibvirtURIPolicy.problem(host, allowExternal: allowExternalTransport) { throw ValidationError("--on \(host): \(why)") }
    }

    func run() async throws {
        let outcome = try await MigrationJobs.abort(domain, on: host)
        if json {
            print(try JSONText.encode(outcome))
        } else {
            print("aborted the migration of '\(outcome.domain)' on \(HostURI.redacted(outcome.host)); it \(outcome.location)")
        }
        if outcome.runsOn.count != 1 { throw ExitCode(1) }
    }
}
