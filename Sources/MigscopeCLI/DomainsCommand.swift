import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLibvirt

/// `migscope domains --on URI [DOMAIN]`: what a host runs.
struct DomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domains",
        abstract: "List the domains of a host, or show one domain.")

    @Option(name: .customLong("on"), help: ArgumentHelp("libvirt URI of the host, or 'xen' for this Xen dom0 through libxl (default: LIBVIRT_DEFAULT_URI).", valueName: "uri"))
    var on: String?

    var uri: String { DefaultHost.choose(on, flag: "--on")?.uri ?? "" }

    @Argument(help: "A domain's name or UUID; without it, all domains are listed.")
    var domain: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(name: .customLong("allow-ext-transport"), help: "Accept a URI that makes libvirt run a program or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    func validate() throws {
        guard let host = DefaultHost.choose(on, flag: "--on") else { throw ValidationError("--on is missing (and LIBVIRT_DEFAULT_URI is not set): give the host's libvirt URI, e.g. qemu:///system") }
        // 'xen' names this dom0 through libxl, not a libvirt URI.
        if BackendChoice.forHost(host.uri) == .libvirt, let why = LibvirtURIPolicy.problem(host.uri, allowExternal: allowExternalTransport) {
            throw ValidationError("\(host.named) \(host.uri): \(why)")
        }
    }

    func run() async throws {
        let listings = try await BackendChoice.domains(on: uri, named: domain)
        if json {
            print(try JSONText.encode(domain == nil ? AnyEncodable(listings) : AnyEncodable(listings[0])))
            return
        }
        let rows = listings.map { d in
            [d.id.map(String.init) ?? "-", d.name, d.state, Format.bytes(d.memoryBytes), "\(d.virtualCPUs)", d.uuid]
        }
        print(TextTable.render(header: ["id", "name", "state", "memory", "vcpus", "uuid"], rows: rows))
    }
}
