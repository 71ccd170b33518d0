import ArgumentParser
import MigscopeLab
import MigscopeLibvirt

/// `--on URI`, repeatable, for the commands that look at what libvirt hosts are busy with; without
/// it, the embedded lab's two hosts when a lab is up.
struct HostsOption: ParsableArguments {
    @Option(name: .customLong("on"), help: ArgumentHelp("libvirt URI of a host to look at (repeatable; default: the lab's hosts when a lab is up).", valueName: "uri"))
    var given: [String] = []

    @Flag(name: .customLong("allow-ext-transport"), help: "Accept URIs that make libvirt run a program or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    func validate() throws {
        for uri in given {
            if let why = LibvirtURIPolicy.problem(uri, allowExternal: allowExternalTransport) { throw ValidationError("--on \(uri): \(why)") }
        }
    }

    /// The hosts to look at; refuses, naming the fix, when none is given and no lab is up.
    func hosts() throws -> [String] {
        if !given.isEmpty { return given }
        guard Lab.isUp() else { throw ValidationError("no host given and no lab is up: name the hosts with --on URI (repeatable)") }
        return LabMachine.hypervisors.map(\.libvirtURI)
    }
}
