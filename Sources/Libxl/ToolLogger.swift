import CLibxl
import Foundation
import Logging

/// What libxl and libxenguest report through the xentoollog logger, as Swift values.
public enum LibxlLogEntry: Sendable, Equatable {
    /// A message at xentoollog's level (1 debug ... 9 critical), with its context ("xc", "libxl").
    case message(level: Int32, context: String, text: String)
    /// Progress of a long operation: libxenguest's "Frames iteration N" with done/total pages.
    case progress(context: String, doing: String, percent: Int32, done: UInt64, total: UInt64)
}

/// A xentoollog logger that hands every entry to Swift: messages to swift-log at their level,
/// every entry (progress included, as typed values) to `sink`. The C side is the shim's logger
/// struct; this object is its opaque pointer and must outlive the libxl context that uses it.
public final class ToolLogger: @unchecked Sendable {
    private let lock = NSLock()
    /// The last messages, numbered, with their xentoollog level.
    private var recent: [(sequence: Int, level: Int32, text: String)] = []
    private var count = 0
    private let sink: (@Sendable (LibxlLogEntry) -> Void)?
    private let log: Logging.Logger
    private(set) var handle: UnsafeMutablePointer<xentoollog_logger>?

    /// libxl's own chatter, quiet unless MIGSCOPE_LIBXL_LOG names a level (e.g. debug): its
    /// failures already reach the user as one-line errors that quote its last message.
    public static func defaultLog() -> Logging.Logger {
        var log = Logging.Logger(label: "migscope.libxl")
        let wanted = ProcessInfo.processInfo.environment["MIGSCOPE_LIBXL_LOG"].flatMap { Logging.Logger.Level(rawValue: $0.lowercased()) }
        log.logLevel = wanted ?? .critical
        return log
    }

    public init(log: Logging.Logger = ToolLogger.defaultLog(), sink: (@Sendable (LibxlLogEntry) -> Void)? = nil) {
        self.log = log
        self.sink = sink
        handle = migscope_xtl_logger_new(Unmanaged.passUnretained(self).toOpaque(), loggerMessage, loggerProgress)
    }

    deinit { xtl_logger_destroy(handle) }

    func receive(_ e: LibxlLogEntry) {
        if case .message(let level, let context, let text) = e {
            lock.withLock {
                count += 1
                recent.append((count, level, text))
                if recent.count > 256 { recent.removeFirst(recent.count - 256) }
            }
            log.log(level: Self.level(level), "\(text)", metadata: ["context": .string(context)])
        }
        sink?(e)
    }

    /// The last messages (they explain a failure).
    public var messages: [String] { lock.withLock { recent.map(\.text) } }

    /// How many messages have arrived so far: a mark to ask `explanation(since:)` about.
    public var sequence: Int { lock.withLock { count } }

    /// What explains a failure that followed `mark`: the warnings and errors logged since, or, when
    /// there were none, every message since.
    public func explanation(since mark: Int) -> [String] {
        lock.withLock {
            let since = recent.filter { $0.sequence > mark }
            let problems = since.filter { $0.level >= Int32(XTL_WARN.rawValue) }
            return (problems.isEmpty ? since : problems).map(\.text)
        }
    }

    /// xentoollog's levels (XTL_DEBUG 1 ... XTL_CRITICAL 9) on swift-log's scale.
    static func level(_ xtl: Int32) -> Logging.Logger.Level {
        switch xtl {
        case ...Int32(XTL_VERBOSE.rawValue): return .trace
        case ...Int32(XTL_PROGRESS.rawValue): return .debug
        case Int32(XTL_INFO.rawValue): return .info
        case Int32(XTL_NOTICE.rawValue): return .notice
        case Int32(XTL_WARN.rawValue): return .warning
        case Int32(XTL_ERROR.rawValue): return .error
        default: return .critical
        }
    }
}

// C callbacks at file scope, non-capturing; the logger arrives through the opaque pointer.
private func loggerMessage(_ opaque: UnsafeMutableRawPointer?, _ level: Int32, _ errnoval: Int32, _ context: UnsafePointer<CChar>?, _ text: UnsafePointer<CChar>?) {
    guard let opaque else { return }
    let logger = Unmanaged<ToolLogger>.fromOpaque(opaque).takeUnretainedValue()
    var message = text.map { String(cString: $0) } ?? ""
    if errnoval > 0 { message += ": \(String(cString: strerror(errnoval)))" }
    logger.receive(.message(level: level, context: context.map { String(cString: $0) } ?? "", text: message))
}

private func loggerProgress(_ opaque: UnsafeMutableRawPointer?, _ context: UnsafePointer<CChar>?, _ doing: UnsafePointer<CChar>?,
                            _ percent: Int32, _ done: UInt, _ total: UInt) {
    guard let opaque else { return }
    let logger = Unmanaged<ToolLogger>.fromOpaque(opaque).takeUnretainedValue()
    logger.receive(.progress(context: context.map { String(cString: $0) } ?? "", doing: doing.map { String(cString: $0) } ?? "",
                             percent: percent, done: UInt64(done), total: UInt64(total)))
}
