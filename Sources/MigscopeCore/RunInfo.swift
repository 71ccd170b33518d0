import Foundation

/// What is known about a run besides its trace.
public struct RunInfo: Sendable, Equatable, Codable {
    /// The database's number for the run, for the command line; only within one database.
    public var id: Int64?
    /// The run's identity everywhere: the same in every export and database it is copied to.
    /// (Optional only so that runs stored before it existed decode; the store gives them one.)
    public var uuid: UUID?
    public var backend: String
    public var request: MigrationRequest
    public var domain: DomainFacts?
    /// Wall-clock time at t = 0 of the run clock.
    public var anchor: Date
    public var linkRate: String?
    public var linkModel: String?
    /// The link served the guest's storage traffic first (the lab's storage priority).
    public var storagePriority: Bool?
    public var accelerator: String?
    public var workload: Workload?
    /// Recording while it runs, then how it ended (or still recording: the recorder died).
    public var status: RunStatus
    public var outcome: RunStatus?
    public var error: String?
    public var planName: String?
    public var cell: String?
    public var repetition: Int?
    /// The plan's defining settings when the run was made (Plan.definingSettings), for resuming.
    public var planSettings: [String: String]?
    /// Names of the source's and the destination's links in the link samples, when known (the lab's
    /// "hostA", "hostB"): what tells the migration stream from the storage traffic in figures.
    public var sourceLink: String?
    public var destinationLink: String?
    public var notes: [String]
    /// migscope's, libvirt's, QEMU's or Xen's versions on each host and the kernels, as found
    /// when the run was prepared (nil in runs made before migscope stored them).
    public var software: SoftwareVersions?
    /// What `migrate --predict` worked out before the migration started.
    public var forecast: MigrationForecast?
    /// The drain this run was part of (`migscope drain --record`): its runs share the id.
    public var drain: String?

    public init(id: Int64? = nil, backend: String, request: MigrationRequest, domain: DomainFacts? = nil, anchor: Date,
                linkRate: String? = nil, linkModel: String? = nil, accelerator: String? = nil, workload: Workload? = nil,
                uuid: UUID? = UUID(), status: RunStatus = .recording, outcome: RunStatus? = nil, error: String? = nil,
                planName: String? = nil, cell: String? = nil, repetition: Int? = nil, notes: [String] = []) {
        self.id = id
        self.uuid = uuid
        self.backend = backend
        self.request = request
        self.domain = domain
        self.anchor = anchor
        self.linkRate = linkRate
        self.linkModel = linkModel
        self.accelerator = accelerator
        self.workload = workload
        self.status = status
        self.outcome = outcome
        self.error = error
        self.planName = planName
        self.cell = cell
        self.repetition = repetition
        self.notes = notes
    }

    public var isIncomplete: Bool { status == .recording }

    /// The same run with its hosts' URIs as they may be stored and shown (HostURI.redacted).
    public var redacted: RunInfo {
        var r = self
        r.request.source = HostURI.redacted(request.source)
        r.request.destination = HostURI.redacted(request.destination)
        r.request.migrateURI = request.migrateURI.map(HostURI.redacted)
        return r
    }
}
