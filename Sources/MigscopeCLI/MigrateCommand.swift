import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLibvirt
import MigscopeLibxl
import MigscopeMetrics
import MigscopeStore

/// `migscope migrate DOMAIN --from URI --to URI ...`: one migration, with a live progress line.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Migrate a running domain from one host to another.",
        discussion: """
            Shows a progress line while the migration runs (round, % of memory sent, remaining, dirty \
            rate, elapsed), then a summary. Ctrl-C aborts the migration; the domain keeps running on the source.
            """)


    @Argument(help: "Name or UUID of the running domain to migrate.")
    var domain: String

    @Option(help: ArgumentHelp("libvirt: any hypervisor libvirt drives; libxl: Xen, from this dom0, with every pre-copy round.", valueName: "libvirt|libxl"))
    var backend: BackendChoice = .libvirt

    @Option(help: ArgumentHelp("libvirt URI of the source host (libvirt only; libxl migrates from the dom0 it runs in).", valueName: "uri"))
    var from: String?

    @Option(help: ArgumentHelp("Destination: a libvirt URI (as the source sees it, with --p2p); for libxl: localhost, HOST[:PORT] of a 'migscope xen-receive --listen', or ssh://[USER@]HOST.", valueName: "uri"))
    var to: String

    @Option(name: .customLong("progress-log"), help: ArgumentHelp("libxl: write every progress report of libxenguest here, verbatim.", valueName: "file"))
    var progressLog: UserPath?

    @Option(help: ArgumentHelp("libxl over TCP: the key both ends prove (made by 'migscope xen-receive --init-key' on the receiver).", valueName: "file"))
    var key: UserPath = UserPath(XenPeerKey.defaultPath)

    @Flag var mode: MigrationRequest.Mode = .live

    @Flag(name: .customLong("p2p"), help: "Let the source daemon connect to the destination itself (peer-to-peer).")
    var peerToPeer = false

    @Flag(help: "Define the domain on the destination too (as virsh migrate --persistent).")
    var persistent = false

    @Flag(name: .customLong("undefine-source"), help: "Remove the domain's definition from the source once it runs on the destination (as virsh migrate --undefine-source).")
    var undefineSource = false

    @Option(name: .customLong("migrate-uri"), help: ArgumentHelp("Where the migration stream goes, e.g. tcp://198.18.0.2.", valueName: "uri"))
    var migrateURI: String?

    @Option(name: .customLong("destination-name"), help: ArgumentHelp("Name of the domain on the destination.", valueName: "name"))
    var destinationName: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Cap on the migration stream.", valueName: "MiB/s"),
            transform: ArgumentValue.integer("--bandwidth", unit: "MiB/s", in: ArgumentValue.streamCap))
    var bandwidth: UInt64?

    @Option(name: .customLong("max-downtime"), parsing: .unconditional, help: ArgumentHelp("Longest pause tolerated at the end of a live migration.", valueName: "ms"),
            transform: ArgumentValue.integer("--max-downtime", unit: "milliseconds", in: ArgumentValue.downtime))
    var maxDowntime: UInt64?

    @Option(parsing: .unconditional, help: ArgumentHelp("Pause the guest after this many seconds so the migration completes (as virsh migrate --timeout).", valueName: "s"),
            transform: ArgumentValue.seconds("--timeout", in: ArgumentValue.longestMigration))
    var timeout: Double?

    @Option(name: .customLong("pause-after-rounds"), parsing: .unconditional,
            help: ArgumentHelp("Pause the guest when pre-copy round N+1 begins, so the migration ends after N rounds (Xen's rule; libxenguest uses 5).", valueName: "N"),
            transform: ArgumentValue.integer("--pause-after-rounds", unit: "rounds", in: ArgumentValue.rounds))
    var pauseAfterRounds: UInt64?

    @Option(name: .customLong("abort-after"), parsing: .unconditional, help: ArgumentHelp("Abort the migration after this many seconds; the guest stays on the source.", valueName: "s"),
            transform: ArgumentValue.seconds("--abort-after", in: ArgumentValue.longestMigration))
    var abortAfter: Double?

    @OptionGroup(title: "Tuning (live migration)") var tuning: TuningOptions

    @OptionGroup(title: "Stall detection") var stall: StallOptions

    @Option(name: .customLong("link-rate"), help: ArgumentHelp("The rate of the link the migration and the guest's storage share, for the run's efficiency (with --record; the lab's is known).", valueName: "rate"))
    var linkRate: LinkRate?

    @Option(name: .customLong("poll-interval"), parsing: .unconditional, help: ArgumentHelp("How often job progress is read.", valueName: "ms"),
            transform: ArgumentValue.integer("--poll-interval", unit: "milliseconds", in: ArgumentValue.pollInterval))
    var pollInterval: UInt64 = 100

    @Flag(name: .customLong("allow-ext-transport"), help: "Accept URIs that make libvirt run a program (qemu+ext, command=, netcat=) or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    @Flag(help: "Print the summary as JSON on stdout (the progress line still goes to stderr).")
    var json = false

    @Flag(help: "Record rounds, guest I/O, links and events into the results database.")
    var record = false

    @Flag(help: "Predict the migration first (as 'migscope predict': the dirty rate measured in place, about 7 s) and, with --record, store the prediction with the run, which 'report' shows beside what was measured.")
    var predict = false

    @OptionGroup(title: "Prediction (with --predict)") var forecastOptions: ForecastOptions

    @OptionGroup var database: DatabaseOption

    @OptionGroup(title: "Live metrics") var metrics: MetricsOptions

    @OptionGroup(title: "Output") var output: OutputOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds recorded before the migration starts (with --record).", valueName: "s"),
            transform: ArgumentValue.seconds("--baseline", in: ArgumentValue.longestRecording))
    var baseline: Double = 15

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds recorded after it ends (with --record).", valueName: "s"),
            transform: ArgumentValue.seconds("--tail", in: ArgumentValue.longestRecording))
    var tail: Double = 15

    @Option(help: ArgumentHelp("A guest console log to follow for the guest's own rate lines (the lab's, and xenconsoled's guest-NAME.log with --backend libxl, are followed by themselves).", valueName: "file"))
    var console: UserPath?

    @Option(name: .customLong("interface"), help: ArgumentHelp("A local network interface whose counters to record (repeatable; the lab's links are recorded by themselves).", valueName: "name"))
    var interfaces: [String] = []

    /// --from, else (libvirt) LIBVIRT_DEFAULT_URI, as virsh takes it; with where it came from.
    var source: (uri: String, named: String)? {
        backend == .libvirt ? DefaultHost.choose(from, flag: "--from") : from.map { ($0, "--from") }
    }

    var request: MigrationRequest {
        let r = MigrationRequest(
            domain: domain, source: backend.source(given: backend == .libvirt ? source?.uri : from), destination: to, mode: mode,
            transport: peerToPeer ? .peerToPeer : .clientManaged, migrateURI: migrateURI,
            destinationName: destinationName, bandwidthMiBps: bandwidth, maxDowntimeMs: maxDowntime,
            pauseAfterSeconds: timeout, abortAfterSeconds: abortAfter,
            pauseAfterRounds: pauseAfterRounds.map { Int(clamping: $0) }, persistent: persistent, undefineSource: undefineSource)
        var tuned = tuning.applied(to: r)
        tuned.stallLimits = stall.limits
        return tuned
    }

    func validate() throws {
        switch backend {
        case .libvirt:
            guard let source else { throw ValidationError("--from is missing (and LIBVIRT_DEFAULT_URI is not set): give the source host's libvirt URI, e.g. qemu:///system") }
            for (flag, uri) in [(source.named, source.uri), ("--to", to), ("--migrate-uri", migrateURI)] {
                if let uri, let why = LibvirtURIPolicy.problem(uri, allowExternal: allowExternalTransport) { throw ValidationError("\(flag) \(uri): \(why)") }
            }
            if progressLog != nil { throw ValidationError("--progress-log is for --backend libxl (libvirt reports no per-page progress)") }
        case .libxl:
            if let from, !["localhost", "local", LibxlBackend.thisHost].contains(from) {
                throw ValidationError("--from \(from): the libxl backend migrates from the Xen host it runs on; run migscope in the source's dom0 and leave out --from")
            }
            let destination: XenDestination
            do { destination = try XenDestination(parsing: to) } catch { throw ValidationError(error.message) }
            if case .tcp = destination {
                do { _ = try XenPeerKey.load(from: key.path) } catch { throw ValidationError("--to \(to) needs the receiver's key (--key \(key.path)): \(error.message)") }
            }
        }
        if let problem = experiment().problems().first { throw ValidationError(problem.message) }
        if !record && (console != nil || !interfaces.isEmpty) { throw ValidationError("--console and --interface are for recording: add --record") }
        if !record && !predict && linkRate != nil { throw ValidationError("--link-rate is for recording or predicting: add --record or --predict") }
        if predict && backend != .libvirt && forecastOptions.dirtyRate == nil {
            throw ValidationError("--predict on Xen needs --dirty-rate MiB/s: libxl cannot measure a dirty rate in place")
        }
        if !predict && (forecastOptions.dirtyRate != nil || forecastOptions.probeStream) { throw ValidationError("--dirty-rate and --probe-stream are for --predict: add it") }
        if let console, !FileManager.default.fileExists(atPath: console.path) {
            throw ValidationError("--console: no file \(console); give the path of the guest's serial console log")
        }
    }

    func experiment(forecast: MigrationForecast? = nil) -> Experiment {
        let interval = Duration.milliseconds(Int64(pollInterval))
        let recording = record ? Experiment.Recording(
            settings: RecorderSettings(interval: interval, baseline: .milliseconds(Int64(baseline * 1000)), tail: .milliseconds(Int64(tail * 1000))),
            consolePath: console?.path, interfaces: interfaces, linkRate: linkRate) : nil
        var recordingWithForecast = recording
        recordingWithForecast?.forecast = forecast
        return Experiment(backend: backend, options: .init(progressLogPath: progressLog?.path, keyPath: key.path), request: request, recording: recordingWithForecast)
    }

    func run() async throws {
        // Open the database before anything moves, so a bad --db costs nothing.
        let store = record ? try database.openForWriting() : nil
        var forecast: MigrationForecast?
        if predict {
            let quiet = output.quiet
            let f = try await Forecast.make(request, options: forecastOptions.options(linkRate: linkRate)) { if !quiet { printNote($0) } }
            if !quiet { for line in ForecastText.render(f).split(separator: "\n") { printNote(String(line)) } }
            forecast = f
        }
        let exporter = try await metrics.start()
        let prepared: PreparedExperiment
        do { prepared = try await experiment(forecast: forecast).prepare() } catch { await exporter?.stop(); throw error }
        let session = prepared.session
        let printer = ProgressPrinter(domain: session.domainFacts.name, output: output.resolved)
        if let store {
            printer.note("recording into \(store.path) (baseline \(Format.seconds(baseline)), tail \(Format.seconds(tail)); \(prepared.linksDescription ?? "no link counters"))")
        }
        let (summary, run) = try await WatchedMigration.perform(prepared, store: store, pollInterval: .milliseconds(Int64(pollInterval)), printer: printer, metrics: exporter)
        var storageFailure: String? = nil
        if let run, let store {
            if let why = run.storageError {
                storageFailure = "run \(run.info.id ?? 0) could not be finished in \(store.path) (\(why)); what was sampled before is there, listed \(run.info.status == .failed ? "failed" : "incomplete")"
            } else {
                printer.note("recorded run \(run.info.id ?? 0) into \(store.path): \(run.summary.rounds) round\(run.summary.rounds == 1 ? "" : "s"), 'migscope export \(run.info.id ?? 0) --out DIR' writes its CSV files")
            }
        }
        let afterwards = run.flatMap { r in
            r.info.status == .failed && summary.succeeded ? r.info.error.map { "\($0); run \(r.info.id ?? 0) keeps what was recorded until then" } : nil
        }
        try WatchedMigration.finish(summary, domain: session.domainFacts, json: json, output: output.resolved, storageFailure: storageFailure, afterwards: afterwards)
    }
}
