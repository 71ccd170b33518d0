import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLibvirt

/// `migscope version [--on URI...]` (and `migscope --version`): migscope's version and the
/// versions of libvirt, QEMU and Xen it sees, here and on each host named, as `virsh version` does.
struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print migscope's version and those of libvirt, QEMU and Xen, here and on the hosts named.")

    @Option(name: .customLong("on"), help: ArgumentHelp("libvirt URI of a host whose daemon and hypervisor versions to show (repeatable).", valueName: "uri"))
    var hosts: [String] = []

    @Flag(name: .customLong("allow-ext-transport"), help: "Accept URIs that make libvirt run a program or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        for uri in hosts {
            if let why = LibvirtURIPolicy.problem(uri, allowExternal: allowExternalTransport) { throw ValidationError("--on \(uri): \(why)") }
        }
    }

    func run() async throws {
        let (versions, unreachable) = await SoftwareSurvey.versions(migscope: MigscopeVersion.current, hosts: hosts)
        print(json ? try JSONText.encode(versions) : versions.lines.joined(separator: "\n"))
        if !unreachable.isEmpty {
            throw CLIFailure(unreachable.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        }
    }
}
