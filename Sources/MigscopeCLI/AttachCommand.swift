import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLibvirt

/// `migscope attach DOMAIN --on URI [--record]`: watches a migration somebody else started (or a
/// migscope that was killed left running) to its end, with the usual progress line.
struct AttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Watch a migration already running on a libvirt host to its end (and record it from now on).",
        discussion: """
            Ctrl-C aborts the migration; the domain keeps running on the source. With --record the run is \
            marked as a late start: what happened before attaching is not on the record.
            """)

    @Argument(help: "Name or UUID of the migrating domain.")
    var domain: String

    @Option(name: .customLong("on"), help: ArgumentHelp("libvirt URI of the migration's source host (default: LIBVIRT_DEFAULT_URI).", valueName: "uri"))
    var on: String?

    var host: String { DefaultHost.choose(on, flag: "--on")?.uri ?? "" }

    @Option(help: ArgumentHelp("libvirt URI of the destination, where the domain is looked for at the end (default: the journal's, when a migscope here started it).", valueName: "uri"))
    var to: String?

    @Flag(name: .customLong("allow-ext-transport"), help: "Accept URIs that make libvirt run a program or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    @Flag(help: "Record rounds, guest I/O, links and events from now on into the results database.")
    var record = false

    @OptionGroup var database: DatabaseOption

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds recorded after it ends (with --record).", valueName: "s"),
            transform: ArgumentValue.seconds("--tail", in: ArgumentValue.longestRecording))
    var tail: Double = 15

    @Flag(help: "Print the summary as JSON on stdout (the progress line still goes to stderr).")
    var json = false

    @OptionGroup(title: "Live metrics") var metrics: MetricsOptions

    @OptionGroup(title: "Output") var output: OutputOptions

    func validate() throws {
        guard let source = DefaultHost.choose(on, flag: "--on") else { throw ValidationError("--on is missing (and LIBVIRT_DEFAULT_URI is not set): give the source host's libvirt URI") }
        for (flag, uri) in [(source.named, source.uri), ("--to", to)] {
            if let uri, let why = LibvirtURIPolicy.problem(uri, allowExternal: allowExternalTransport) { throw ValidationError("\(flag) \(uri): \(why)") }
        }
    }

    func run() async throws {
        let store = record ? try database.openForWriting() : nil
        let request = MigrationRequest(domain: domain, source: host, destination: to ?? "")
        let recording = record ? Experiment.Recording(settings: RecorderSettings(baseline: .zero, tail: .milliseconds(Int64(tail * 1000)))) : nil
        let prepared = try await Experiment(backend: .libvirt, request: request, recording: recording, attach: true).prepare()
        let session = prepared.session
        let printer = ProgressPrinter(domain: session.domainFacts.name, output: output.resolved)
        let exporter = try await metrics.start()
        let (summary, run) = try await WatchedMigration.perform(prepared, store: store, pollInterval: .milliseconds(100), printer: printer, metrics: exporter)
        if let run, let store { printer.note("recorded run \(run.info.id ?? 0) into \(store.path) (a late start)") }
        try WatchedMigration.finish(summary, domain: session.domainFacts, json: json, output: output.resolved)
    }
}
