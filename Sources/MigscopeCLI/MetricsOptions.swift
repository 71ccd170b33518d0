import ArgumentParser
import MigscopeCore
import MigscopeMetrics

/// `--metrics-listen` and `--metrics-file` (`migrate`, `attach`, `batch`, `reproduce`): live state
/// for Prometheus, scraped over HTTP or read by node_exporter's textfile collector.
struct MetricsOptions: ParsableArguments {
    @Option(name: .customLong("metrics-listen"),
            help: ArgumentHelp("Serve live metrics for Prometheus at http://ADDR:PORT/metrics while migscope runs (e.g. 127.0.0.1:9464).", valueName: "addr:port"),
            transform: { text in
                switch MetricsAddress.parse(text) {
                case .success(let a): return a
                case .failure(let p): throw ValidationError("\(p)")
                }
            })
    var listen: MetricsAddress?

    @Option(name: .customLong("metrics-file"),
            help: ArgumentHelp("Rewrite the same metrics into this file each second (node_exporter's textfile collector; name it *.prom).", valueName: "file"))
    var file: UserPath?

    func validate() throws {
        if let file {
            do { _ = try MetricsFile(path: file.path) } catch { throw ValidationError("\(error)") }
        }
    }

    /// Starts exporting when asked (nil when not); a port that cannot be bound fails here, before
    /// any migration starts.
    func start() async throws -> MetricsExporter? {
        guard listen != nil || file != nil else { return nil }
        let exporter = MetricsExporter(metrics: LiveMetrics(), listen: listen, file: try file.map { try MetricsFile(path: $0.path) })
        do { try await exporter.start() } catch { throw CLIFailure("\(error)") }
        return exporter
    }
}

/// The progress line, and the live metrics when they are exported.
func observers(_ printer: ProgressPrinter, _ exporter: MetricsExporter?) -> any MigrationObserver {
    exporter.map { MigrationObservers([printer, $0.metrics]) } ?? printer
}
