import Foundation
import Libxl

/// The logger exists before the session it reports to; this hands entries over once it does.
final class ProgressRelay: @unchecked Sendable {
    private let lock = NSLock()
    private weak var _target: LibxlMigrationSession?
    var target: LibxlMigrationSession? {
        get { lock.withLock { _target } }
        set { lock.withLock { _target = newValue } }
    }
    func forward(_ entry: LibxlLogEntry) { target?.logged(entry) }
}
