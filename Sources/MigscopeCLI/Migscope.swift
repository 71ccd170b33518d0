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

            Exit status: 0 success; 1 a runtime failure (a host not answering, a migration that failed or \
            was aborted by a limit, a batch with failed runs); 2 a usage error (a bad option, value, URI or \
            plan, whichever backend found it), before anything started; 130 interrupted (Ctrl-C, SIGTERM, \
            SIGHUP), after aborting the migration: the guest keeps running on the source and what was \
            recorded is kept.

            Environment: MIGSCOPE_DB names the results database when --db is not given (else \
            results/migscope-results.sqlite under the current folder); LIBVIRT_DEFAULT_URI stands in for \
            --from and --on, as for virsh.

            Long commands (migrate, attach, batch, reproduce) show a progress line on a terminal; \
            --progress json streams one JSON object per line on stdout instead, -q prints only the result, \
            -v adds each round and every state change.
            """,
        version: MigscopeVersion.current,
        subcommands: [ReproduceCommand.self, MigrateCommand.self, BatchCommand.self, RunsCommand.self, ExportCommand.self, ReportCommand.self, DomainsCommand.self, JobsCommand.self, AttachCommand.self, AbortCommand.self, DrainCommand.self, RecoverCommand.self, LabCommand.self, MergeCommand.self, XenReceiveCommand.self, XenRecoverCommand.self, VersionCommand.self, DirtyrateCommand.self, PredictCommand.self])
}
