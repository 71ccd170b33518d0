import CLibxl
import Foundation

/// What libxl and libxenguest report through the xentoollog logger, as Swift values.
public enum LibxlLogEntry: Sendable, Equatable {
    /// A message at xentoollog's level (1 debug ... 8 critical), with its context ("xc", "libxl").
    case message(level: Int32, context: String, text: String)
    /// Progress of a long operation: libxenguest's "Frames iteration N" with done/total pages.
    case progress(context: String, doing: String, percent: Int32, done: UInt64, total: UInt64)
}

/// A xentoollog logger that hands every entry to Swift. The C side is the shim's logger struct;
/// this object is its opaque pointer and must outlive the libxl context that uses it.
public final class Logger: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [LibxlLogEntry] = []
    private let sink: (@Sendable (LibxlLogEntry) -> Void)?
    private(set) var handle: UnsafeMutablePointer<xentoollog_logger>?

    public init(sink: (@Sendable (LibxlLogEntry) -> Void)? = nil) {
        self.sink = sink
        handle = migscope_xtl_logger_new(Unmanaged.passUnretained(self).toOpaque(), loggerMessage, loggerProgress)
    }

    deinit { xtl_logger_destroy(handle) }

    func receive(_ e: LibxlLogEntry) {
        lock.withLock { entries.append(e) }
        sink?(e)
    }

    /// Messages so far (the last ones explain a failure).
    public var messages: [String] {
        lock.withLock { entries.compactMap { if case .message(_, _, let t) = $0 { return t } else { return nil } } }
    }
}

// C callbacks at file scope, non-capturing; the logger arrives through the opaque pointer.
private func loggerMessage(_ opaque: UnsafeMutableRawPointer?, _ level: Int32, _ errnoval: Int32, _ context: UnsafePointer<CChar>?, _ text: UnsafePointer<CChar>?) {
    guard let opaque else { return }
    let logger = Unmanaged<Logger>.fromOpaque(opaque).takeUnretainedValue()
    logger.receive(.message(level: level, context: context.map { String(cString: $0) } ?? "", text: text.map { String(cString: $0) } ?? ""))
}

private func loggerProgress(_ opaque: UnsafeMutableRawPointer?, _ context: UnsafePointer<CChar>?, _ doing: UnsafePointer<CChar>?,
                            _ percent: Int32, _ done: UInt, _ total: UInt) {
    guard let opaque else { return }
    let logger = Unmanaged<Logger>.fromOpaque(opaque).takeUnretainedValue()
    logger.receive(.progress(context: context.map { String(cString: $0) } ?? "", doing: doing.map { String(cString: $0) } ?? "",
                             percent: percent, done: UInt64(done), total: UInt64(total)))
}
