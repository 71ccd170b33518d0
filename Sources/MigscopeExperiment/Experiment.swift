import Foundation
import MigscopeCore
import MigscopeLab
import MigscopeLibvirt
import MigscopeLibxl
import MigscopeProbes

/// One migration to make and, if recorded, how: the one place that turns settings into a backend,
/// a session, a recorder with its link counters and console, and the run's stored facts. Both
/// `migscope migrate` and a batch's runs are experiments.
public struct Experiment: Sendable {
    public var backend: BackendChoice
    public var options: BackendChoice.Options
    public var request: MigrationRequest
    /// How to record; nil: migrate without recording.
    public var recording: Recording?

    public struct Recording: Sendable {
        public var settings: RecorderSettings
        /// A guest console log given by the user; the lab's, and xenconsoled's, are found by themselves.
        public var consolePath: String?
        /// Local network interfaces whose counters to record; the lab's links are found by themselves.
        public var interfaces: [String]
        /// The plan run this is, when it is one.
        public var plan: PlanRun?
        /// The rate of the link the stream and the guest's storage share, as the user gives it for
        /// real hosts (the lab's is known): what the run's efficiency is measured against.
        public var linkRate: LinkRate?
        /// What `--predict` worked out before the migration, stored with the run.
        public var forecast: MigrationForecast?
        /// Called once recording has begun (the lab's read starts here, so all of it is on the record).
        public var onStart: (@Sendable () -> Void)?
        /// Predict the migration during the baseline, with the workload running (a plan's `predict: true`).
        public var predictDuringBaseline: Forecast.Options?
        /// The drain the run is part of, stored with it.
        public var drain: String?
        /// Holds the migration after the baseline until its turn (a plan's drain).
        public var gate: (any MigrationGate)?

        public init(settings: RecorderSettings, consolePath: String? = nil, interfaces: [String] = [], plan: PlanRun? = nil,
                    linkRate: LinkRate? = nil, onStart: (@Sendable () -> Void)? = nil) {
            self.settings = settings
            self.linkRate = linkRate
            self.consolePath = consolePath
            self.interfaces = interfaces
            self.plan = plan
            self.onStart = onStart
        }
    }

    /// What a plan adds to a run's stored facts.
    public struct PlanRun: Sendable {
        public var name: String
        public var cell: PlanCell
        public var repetition: Int
        public var settings: [String: String]
        public var workload: Workload
        public init(name: String, cell: PlanCell, repetition: Int, settings: [String: String], workload: Workload) {
            self.name = name
            self.cell = cell
            self.repetition = repetition
            self.settings = settings
            self.workload = workload
        }
    }

    /// Watch (and record) the migration already running for the request's domain on its source,
    /// instead of starting one: `migscope attach`. libvirt only (libxl's migration lives in its process).
    public var attach = false

    public init(backend: BackendChoice, options: BackendChoice.Options = .init(), request: MigrationRequest, recording: Recording? = nil,
                attach: Bool = false) {
        self.attach = attach
        self.backend = backend
        self.options = options
        self.request = request
        self.recording = recording
    }

    /// Everything wrong with the experiment that can be known without touching a host.
    public func problems() -> [RequestProblem] {
        request.problems() + backend.capabilities.problems(request)
    }

    /// Checks the hosts and sets the migration up without starting it.
    public func prepare() async throws -> PreparedExperiment {
        let session: any MigrationSession
        if attach {
            guard backend == .libvirt else { throw MigrationError(.notMigratable, "attach works with libvirt hosts; a libxl migration ends with the migscope that runs it") }
            session = try await LibvirtBackend().attach(request)
        } else {
            session = try await backend.makeBackend(options).prepare(request)
        }
        guard let recording else { return PreparedExperiment(session: session, makeRecorder: nil, info: nil, linksDescription: nil) }
        let lab = Lab.recordingContext(source: request.source, destination: request.destination, domain: request.domain)
        let links: (any LinkCounterSource)? = !recording.interfaces.isEmpty ? LocalInterfaces(recording.interfaces) : lab?.links
        let consolePaths = backend == .libxl
            ? LibxlBackend.consoleLogs(domain: request.domain, destination: request.destination, given: recording.consolePath)
            : (recording.consolePath ?? lab?.consolePath).map { [$0] } ?? []
        let console = consolePaths.isEmpty ? nil : ConsoleTailer(paths: consolePaths)
        let request = self.request
        let baselineForecast: Recorder.BaselineForecast? = recording.predictDuringBaseline.map { options in
            { @Sendable in await Self.forecast(request, options) }
        }
        let makeRecorder: @Sendable (any TraceSink) -> Recorder = { sink in
            Recorder(settings: recording.settings, sink: sink, console: console, links: links, onStart: recording.onStart,
                     forecastDuringBaseline: baselineForecast, gate: recording.gate)
        }
        let plan = recording.plan
        var info = RunInfo(
            backend: backend.rawValue, request: request, domain: session.domainFacts, anchor: Date(),
            linkRate: lab?.linkRate ?? recording.linkRate?.description ?? plan?.cell.bandwidth.description, linkModel: lab?.linkModel ?? plan?.cell.link.rawValue,
            accelerator: lab?.accelerator ?? session.domainFacts.virtualizationType.map(Self.accelerator), workload: lab?.workload ?? plan?.workload,
            planName: plan?.name, cell: plan?.cell.key, repetition: plan?.repetition)
        info.planSettings = plan?.settings
        info.forecast = recording.forecast
        info.drain = recording.drain
        if attach, let elapsed = (try? session.progress())??.timeElapsedMs {
            info.notes.append("late start: attached to a migration already running for \(Format.seconds(Double(elapsed) / 1000)); rounds and samples before that are not on the record")
        }
        // libvirt hosts describe themselves; a libxl run's hosts are this machine and its peer's
        // migscope, so only this machine is surveyed there.
        info.software = await SoftwareSurvey.versions(hosts: backend == .libvirt ? [request.source, request.destination] : [], timeout: 10).0
        info.storagePriority = lab?.storagePriority
        info.sourceLink = lab?.sourceLink
        info.destinationLink = lab?.destinationLink
        return PreparedExperiment(session: session, makeRecorder: makeRecorder, info: info,
                                  linksDescription: links?.description ?? "no link counters: not the embedded lab and no --interface")
    }
}

extension Experiment {
    /// A forecast, or why there is none, in one line.
    static func forecast(_ request: MigrationRequest, _ options: Forecast.Options) async -> Result<MigrationForecast, ForecastFailure> {
        do { return .success(try await Forecast.make(request, options: options)) } catch let e as RequestProblem {
            return .failure(ForecastFailure(e.message))
        } catch let e as MigrationError {
            return .failure(ForecastFailure(e.message))
        } catch {
            return .failure(ForecastFailure("\(error)"))
        }
    }

    /// The accelerator a libvirt domain type means: TCG for plain "qemu".
    static func accelerator(_ virtualizationType: String) -> String {
        virtualizationType == "qemu" ? "tcg" : virtualizationType
    }
}

/// A migration set up and not yet started.
public struct PreparedExperiment: Sendable {
    public let session: any MigrationSession
    let makeRecorder: (@Sendable (any TraceSink) -> Recorder)?
    let info: RunInfo?
    /// What the recording's link counters watch (or why there are none).
    public let linksDescription: String?

    /// Records the migration into `sink` (the experiment must have asked for recording).
    public func record(into sink: any TraceSink, observer: (any MigrationObserver)? = nil) async throws -> RecordedRun {
        guard let makeRecorder, let info else { preconditionFailure("record(into:) on an experiment without recording") }
        return try await makeRecorder(sink).record(session, info: info, observer: observer)
    }

    /// Migrates without recording.
    public func run(pollInterval: Duration, observer: (any MigrationObserver)? = nil) async -> MigrationSummary {
        await MigrationRunner(pollInterval: pollInterval).run(session, observer: observer)
    }
}
