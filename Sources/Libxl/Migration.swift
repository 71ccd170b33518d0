import CLibxl

/// libxl's two halves of a migration stream: `suspend` writes a domain to a file descriptor
/// (`xl save` / the sender of `xl migrate`), `restore` builds a domain from one (the receiver).
/// Both block until the stream is done; run them on a thread of their own.
extension Context {
    /// Writes domain `id`'s memory and state to `fd`. Live: pre-copy rounds while the guest runs,
    /// then a pause for the last copy; otherwise paused for the whole copy. Each round arrives on
    /// the logger as a "Frames iteration N" progress entry.
    ///
    /// On success the domain is left suspended (destroy it once the destination runs); on failure
    /// it may be too, and `resume` brings it back.
    public func suspend(_ id: DomainID, to fd: Int32, live: Bool) throws(LibxlError) {
        try perform(live ? "live-migrate domain \(id)" : "save domain \(id)") {
            libxl_domain_suspend(handle, id.rawValue, fd, live ? LIBXL_SUSPEND_LIVE : 0, nil)
        }
    }

    /// Creates a domain from the stream on `fd`, configured by `configurationJSON`, named `name`.
    /// The new domain is left paused. A failure after the domain was created destroys it.
    public func restore(configurationJSON: String, name: String, from fd: Int32) throws(LibxlError) -> DomainID {
        try withConfiguration(json: configurationJSON, name: name) { (config: inout libxl_domain_config) throws(LibxlError) -> DomainID in
            var params = libxl_domain_restore_params()
            libxl_domain_restore_params_init(&params)
            defer { libxl_domain_restore_params_dispose(&params) }
            // libxl_domain_suspend writes migration stream v2 (Xen >= 4.6).
            params.stream_version = 2
            var id: UInt32 = 0
            let mark = logger.sequence
            let rc = libxl_domain_create_restore(handle, &config, &id, fd, -1, &params, nil, nil)
            if rc != 0 {
                let why = logger.explanation(since: mark)
                if id != 0 && id != UInt32.max && domainInfo(DomainID(id)) != nil { try? destroy(DomainID(id)) }
                throw LibxlError(code: rc, operation: "restore domain '\(name)' from the stream", log: why)
            }
            return DomainID(id)
        }
    }
}
