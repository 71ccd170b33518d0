import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeMetrics
import MigscopeStore

/// What `migrate` and `attach` share once the migration is prepared: run it (or record it into the
/// database) with the progress line and Ctrl-C aborting it, print its summary, and end with the
/// exit status its outcome calls for.
enum WatchedMigration {
    /// Runs or records `prepared`; returns the outcome, and the recorded run when recording. The
    /// metrics exporter, if any, is stopped when it returns or throws (its file keeps the last state).
    static func perform(_ prepared: PreparedExperiment, store: ResultsStore?, pollInterval: Duration,
                        printer: ProgressPrinter, metrics: MetricsExporter? = nil) async throws -> (summary: MigrationSummary, run: RecordedRun?) {
        do {
            let watched = try await watch(prepared, store: store, pollInterval: pollInterval, printer: printer, metrics: metrics)
            await metrics?.stop()
            return watched
        } catch {
            await metrics?.stop()
            throw error
        }
    }

    private static func watch(_ prepared: PreparedExperiment, store: ResultsStore?, pollInterval: Duration,
                              printer: ProgressPrinter, metrics: MetricsExporter?) async throws -> (summary: MigrationSummary, run: RecordedRun?) {
        let observer = observers(printer, metrics)
        guard let store else {
            let summary = await Interrupts.cancellingOnCtrlC {
                await prepared.run(pollInterval: pollInterval, observer: observer)
            } onFirst: {
                printer.note("interrupted: aborting the migration (Ctrl-C again quits without waiting)")
            }
            printer.finish()
            return (summary, nil)
        }
        let recorded = await Interrupts.cancellingOnCtrlC {
            do { return Result<RecordedRun, Error>.success(try await prepared.record(into: store, observer: observer)) } catch { return .failure(error) }
        } onFirst: {
            printer.note("interrupted: aborting the migration, keeping what was recorded (Ctrl-C again quits without waiting)")
        }
        printer.finish()
        let run = try recorded.get()
        guard let m = run.migration else {
            throw CLIFailure("interrupted before the migration started; run \(run.info.id ?? 0) kept in \(store.path)", exitStatus: 130)
        }
        return (m, run)
    }

    /// Prints the summary (as JSON with `json`), then throws the failure its outcome is, if any.
    /// `afterwards`: why the recorded run failed although its migration completed (the guest
    /// stopped running during the tail).
    static func finish(_ summary: MigrationSummary, domain: DomainFacts, json: Bool, output: OutputOptions.Resolved,
                       storageFailure: String? = nil, afterwards: String? = nil) throws {
        try ResultOutput.print(summary, json: json, output: output) { SummaryText.render(summary, domain: domain) }
        if let storageFailure {
            throw CLIFailure("\(storageFailure); the migration \(summary.succeeded ? "completed" : "did not complete") and domain '\(domain.name)' is \(summary.location)")
        }
        switch summary.outcome {
        case .completed:
            if let afterwards { throw CLIFailure(afterwards) }
            return
        case .aborted(let why):
            throw CLIFailure("\(why); domain '\(domain.name)' is \(summary.location)", exitStatus: why.isInterruption ? 130 : 1)
        case .failed(let why):
            throw CLIFailure("\(why); domain '\(domain.name)' is \(summary.location)")
        }
    }
}
