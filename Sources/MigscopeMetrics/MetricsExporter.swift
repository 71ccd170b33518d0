import FlyingFox
import FlyingSocks
import Foundation

/// Publishes a `LiveMetrics` while migscope runs: over HTTP at `/metrics` for Prometheus to scrape,
/// and/or rewritten into a file each second for node_exporter's textfile collector.
public final class MetricsExporter: @unchecked Sendable {
    public let metrics: LiveMetrics
    private let address: MetricsAddress?
    private let file: MetricsFile?
    private var server: HTTPServer?
    private var serving: Task<Void, Never>?
    private var writing: Task<Void, Never>?

    public init(metrics: LiveMetrics, listen address: MetricsAddress?, file: MetricsFile?) {
        self.metrics = metrics
        self.address = address
        self.file = file
    }

    /// Starts serving and writing; throws one line when the address cannot be bound (in use, not
    /// this machine's) or the file cannot be written, before any migration starts.
    public func start() async throws {
        if let file {
            do { try file.write(metrics.exposition()) } catch { throw AddressProblem("cannot write --metrics-file '\(file.path)': \(error)") }
            let metrics = metrics
            writing = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    try? file.write(metrics.exposition())
                }
            }
        }
        guard let address else { return }
        let socketAddress: any SocketAddress
        do {
            switch address.host {
            case .ipv4(let a): socketAddress = try sockaddr_in.inet(ip4: a, port: address.port)
            case .ipv6(let a): socketAddress = try sockaddr_in6.inet6(ip6: a, port: address.port)
            }
        } catch { throw AddressProblem("--metrics-listen \(address): not an address this machine can use (\(error))") }
        let server = HTTPServer(address: socketAddress, timeout: 15, logger: .disabled)
        let metrics = metrics
        await server.appendRoute("GET /metrics") { _ in
            HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: Data(metrics.exposition().utf8))
        }
        let failure = FailureBox()
        serving = Task {
            do { try await server.run() } catch { failure.set("\(error)") }
        }
        // Bound, or failed to bind: whichever is seen first (binding takes milliseconds).
        for _ in 0..<250 {
            if let why = failure.value { throw AddressProblem("--metrics-listen \(address): cannot listen there (\(why)); is another program using the port?") }
            if await server.isListening { self.server = server; return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        serving?.cancel()
        throw AddressProblem("--metrics-listen \(address): the server did not start listening within 5 s")
    }

    /// Writes the file one last time (the final state stays for the collector) and stops serving.
    public func stop() async {
        writing?.cancel()
        if let file { try? file.write(metrics.exposition()) }
        await server?.stop(timeout: 1)
        serving?.cancel()
    }
}

private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var text: String?
    func set(_ t: String) { lock.withLock { text = t } }
    var value: String? { lock.withLock { text } }
}
