import CLibxl
import Glibc

/// A libxl context (`libxl_ctx`), with its own logger. Works only in a Xen dom0: elsewhere
/// `libxl_ctx_alloc` fails, and the error says so in one line.
///
/// libxl's context is thread-safe: one thread may wait in `suspend` while another asks for
/// domain information or aborts it.
public final class Context: @unchecked Sendable {
    let handle: OpaquePointer
    public let logger: ToolLogger

    public init(logger: ToolLogger = ToolLogger()) throws(LibxlError) {
        self.logger = logger
        var ctx: OpaquePointer? = nil
        let rc = libxl_ctx_alloc(&ctx, Int32(LIBXL_VERSION), 0, logger.handle)
        guard rc == 0, let ctx else {
            throw LibxlError(code: rc, operation: "open libxl", log: logger.explanation(since: 0))
        }
        handle = ctx
        // libxl forks its save helper; it must reap only that child, not migscope's own.
        migscope_libxl_reap_selectively(ctx)
        // A migration stream whose reader died must fail the write, not kill migscope.
        signal(SIGPIPE, SIG_IGN)
    }

    deinit { libxl_ctx_free(handle) }

    /// Runs one libxl call; a non-zero result becomes a LibxlError carrying what libxl logged
    /// about it (its warnings and errors during the call, not earlier chatter).
    func perform(_ operation: @autoclosure () -> String, _ call: () -> Int32) throws(LibxlError) {
        let mark = logger.sequence
        let rc = call()
        if rc != 0 { throw LibxlError(code: rc, operation: operation(), log: logger.explanation(since: mark)) }
    }

    /// Asks libxl to cut short the synchronous operation running on another thread (a suspend or a
    /// restore). It then fails with ERROR_ABORTED; the caller resumes or destroys what is left.
    /// Returns false when no operation was running.
    @discardableResult
    public func abortRunningOperation() -> Bool {
        libxl_ao_abort(handle, nil) == 0
    }
}
