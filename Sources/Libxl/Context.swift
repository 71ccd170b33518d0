import CLibxl

/// A libxl context (`libxl_ctx`), with its own logger. Works only in a Xen dom0: elsewhere
/// `libxl_ctx_alloc` fails, and the error says so in one line.
public final class Context: @unchecked Sendable {
    let handle: OpaquePointer
    public let logger: Logger

    public init(logger: Logger = Logger()) throws(LibxlError) {
        self.logger = logger
        var ctx: OpaquePointer? = nil
        let rc = libxl_ctx_alloc(&ctx, Int32(LIBXL_VERSION), 0, logger.handle)
        guard rc == 0, let ctx else {
            throw LibxlError(code: rc, operation: "open libxl", log: logger.messages)
        }
        handle = ctx
    }

    deinit { libxl_ctx_free(handle) }
}
