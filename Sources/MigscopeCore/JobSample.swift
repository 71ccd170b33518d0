/// One poll of the migration job.
public struct JobSample: Sendable, Equatable, Codable {
    public var t: Double
    public var progress: JobProgress
    public init(t: Double, progress: JobProgress) {
        self.t = t
        self.progress = progress
    }
}
