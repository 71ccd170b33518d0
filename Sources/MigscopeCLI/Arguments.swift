import ArgumentParser
import MigscopeCore
import MigscopeExperiment
import MigscopeReport

/// Parsers for option values: every number has a range, and a value outside it (or 1e21, inf,
/// nan, 9223372036854775808) fails here with a message that names the option, the value and the
/// range, before anything is started or changed.
enum ArgumentValue {
    /// A whole number in `range`.
    static func integer(_ what: String, unit: String, in range: ClosedRange<UInt64>) -> @Sendable (String) throws -> UInt64 {
        { text in
            guard let v = UInt64(text.trimmingCharacters(in: .whitespaces)), range.contains(v) else {
                throw ValidationError("\(what) must be a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return v
        }
    }

    /// A number of seconds in `range` (finite by construction).
    static func seconds(_ what: String, in range: ClosedRange<Double>) -> @Sendable (String) throws -> Double {
        { text in
            guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite, range.contains(v),
                  range.lowerBound > 0 || v >= 0 else {
                throw ValidationError("\(what) must be a number of seconds from \(Self.plain(range.lowerBound)) to \(Self.plain(range.upperBound)), got '\(text)'")
            }
            return v
        }
    }

    /// A whole number in `range` as an Int (lab sizes).
    static func count(_ what: String, unit: String, in range: ClosedRange<Int>) -> @Sendable (String) throws -> Int {
        { text in
            guard let v = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(v) else {
                throw ValidationError("\(what) must be a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return v
        }
    }

    /// A decimal number of `unit` in `range`.
    static func decimal(_ what: String, unit: String, in range: ClosedRange<Double>) -> @Sendable (String) throws -> Double {
        { text in
            guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite, range.contains(v) else {
                throw ValidationError("\(what) must be a number of \(unit) from \(Self.plain(range.lowerBound)) to \(Self.plain(range.upperBound)), got '\(text)'")
            }
            return v
        }
    }

    static func plain(_ x: Double) -> String { x == x.rounded() ? String(Int64(x)) : String(x) }

    // The request's ranges live in core (RequestLimits); the recorder's here, where its flags are.
    static let longestMigration = RequestLimits.seconds
    static let streamCap = RequestLimits.streamCapMiBps
    static let downtime = RequestLimits.maxDowntimeMs
    static let rounds = UInt64(RequestLimits.rounds.lowerBound)...UInt64(RequestLimits.rounds.upperBound)
    /// A day of recording before or after a migration.
    static let longestRecording: ClosedRange<Double> = 0...86_400
    /// Milliseconds: 20 ms and up, as plans require; a poll a minute at most.
    static let pollInterval: ClosedRange<UInt64> = 20...60_000
}

// Core and backend types parsed straight from the command line (no copies of them here).
extension MigrationRequest.Mode: EnumerableFlag {
    public static func help(for value: MigrationRequest.Mode) -> ArgumentHelp? {
        switch value {
        case .live: "Pre-copy: the guest keeps running while memory is copied."
        case .nonLive: "Pause the guest, copy its memory once, resume it on the destination."
        }
    }
}
extension BackendChoice: ExpressibleByArgument {}
extension RunExport.Format: ExpressibleByArgument {}
extension MigrationCompression: ExpressibleByArgument {}
