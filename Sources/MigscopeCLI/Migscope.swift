import ArgumentParser
import MigscopeCore

/// `migscope`: drive VM migrations and record what they cost the guest.
struct Migscope: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migscope",
        abstract: "Drive live and non-live VM migrations and record, on one timeline, every pre-copy round next to the guest's I/O.",
        discussion: """
            Hosts are named by libvirt URIs (qemu:///system, qemu+ssh://host/system, ...).
            Start with 'migscope domains --on URI' to see what a host runs.
            """,
        version: MigscopeVersion.current,
        subcommands: [ReproduceCommand.self, MigrateCommand.self, BatchCommand.self, RunsCommand.self, ExportCommand.self, ReportCommand.self, DomainsCommand.self, JobsCommand.self, AttachCommand.self, AbortCommand.self, RecoverCommand.self, LabCommand.self, MergeCommand.self, XenReceiveCommand.self, XenRecoverCommand.self, VersionCommand.self])
}
