import CLibxl
import Glibc

extension Context {
    /// The running domain's configuration as libxl's JSON (what `xl` keeps in its own stream header).
    public func configurationJSON(of id: DomainID) throws(LibxlError) -> String {
        var config = libxl_domain_config()
        libxl_domain_config_init(&config)
        defer { libxl_domain_config_dispose(&config) }
        try perform("read domain \(id)'s configuration") { libxl_retrieve_domain_configuration(handle, id.rawValue, &config, nil) }
        guard let json = libxl_domain_config_to_json(handle, &config) else {
            throw LibxlError(code: LibxlError.fail, operation: "write domain \(id)'s configuration as JSON", log: [])
        }
        defer { free(json) }
        return String(cString: json)
    }

    /// Parses libxl JSON into a configuration, checking it the way restore will.
    func withConfiguration<R>(json: String, name: String?, _ body: (inout libxl_domain_config) throws(LibxlError) -> R) throws(LibxlError) -> R {
        var config = libxl_domain_config()
        libxl_domain_config_init(&config)
        defer { libxl_domain_config_dispose(&config) }
        try perform("parse a domain configuration") { libxl_domain_config_from_json(handle, &config, json) }
        if let name {
            // libxl owns and frees the string, so it must come from malloc.
            free(config.c_info.name)
            config.c_info.name = strdup(name)
        }
        return try body(&config)
    }

    /// The domain name inside libxl configuration JSON, read by libxl itself.
    public func domainName(inConfigurationJSON json: String) throws(LibxlError) -> String {
        try withConfiguration(json: json, name: nil) { (config: inout libxl_domain_config) throws(LibxlError) -> String in
            config.c_info.name.map { String(cString: $0) } ?? ""
        }
    }
}
