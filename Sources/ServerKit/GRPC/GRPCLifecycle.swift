package import GRPCCore
import ServiceLifecycle

/// Runs a gRPC server as a lifecycle service: serves until graceful shutdown, then drains in-flight RPCs.
package struct GRPCServerService<Transport: ServerTransport>: Service {
    package let server: GRPCServer<Transport>

    package init(server: GRPCServer<Transport>) {
        self.server = server
    }

    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}

/// Runs a gRPC client's connections as a lifecycle service.
package struct GRPCClientService<Transport: ClientTransport>: Service {
    package let client: GRPCClient<Transport>

    package init(client: GRPCClient<Transport>) {
        self.client = client
    }

    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.runConnections()
        } onGracefulShutdown: {
            client.beginGracefulShutdown()
        }
    }
}

/// The transport-level defaults every Rahat gRPC client uses.
package enum RPCDefaults {
    /// The deadline of every call between services that does not set its own: no call waits
    /// forever. The gateway bounds its calls by their request instead (``callerBoundServiceConfig``).
    package static let timeout: Duration = .seconds(10)

    /// Calls that move whole files, or a whole project's roster (a million people take longer
    /// than the default deadline to stream), take as long as that takes, within these bounds.
    package static let streamingTimeouts: [(service: String, method: String, timeout: Duration)] = [
        ("rahat.core.v1.ImportService", "UploadImport", .seconds(3600)),
        ("rahat.core.v1.ImportService", "GetImportRejects", .seconds(600)),
        ("rahat.core.v1.ProjectService", "StreamRoster", .seconds(600)),
    ]

    /// A service config that gives every method of every service the default deadline, and the
    /// file-moving methods theirs.
    package static var serviceConfig: ServiceConfig { serviceConfig(timeout: timeout) }

    /// The same with another default deadline (tests on a loaded machine use a longer one); with
    /// none, only the file-moving methods have one. The methods in `retrying`, which must be
    /// safe to send twice, are sent again as ``retryPolicy`` says when a service answers
    /// `unavailable`.
    package static func serviceConfig(timeout: Duration?, retrying: [MethodConfig.Name] = []) -> ServiceConfig {
        var methods = timeout.map { [MethodConfig(names: [MethodConfig.Name(service: "")], timeout: $0)] } ?? []
        methods += streamingTimeouts.map {
            MethodConfig(names: [MethodConfig.Name(service: $0.service, method: $0.method)], timeout: $0.timeout)
        }
        if !retrying.isEmpty {
            methods.append(MethodConfig(names: retrying, timeout: timeout, executionPolicy: .retry(retryPolicy)))
        }
        return ServiceConfig(methodConfig: methods)
    }

    /// How a call that is safe to send again is retried when the service answers `unavailable`:
    /// a replica stopping, or its database restarting, which `pg_ctl restart -m fast` does in
    /// well under a second. There are up to five attempts, and gRPC waits a random time before
    /// each retry, below a bound that grows from 250 ms to 2 s: up to 3.75 s in all, within the
    /// call's deadline.
    package static let retryPolicy = RetryPolicy(
        maxAttempts: 5, initialBackoff: .milliseconds(250), maxBackoff: .seconds(2), backoffMultiplier: 2,
        retryableStatusCodes: [.unavailable])

    /// For a caller that bounds its calls itself (the gateway bounds each request): no default
    /// deadline, so grpc-swift arms no timer per call on either side; the file-moving methods keep
    /// theirs, as they outlive the request that starts them.
    package static var callerBoundServiceConfig: ServiceConfig { serviceConfig(timeout: nil) }

    /// The same, with `retrying` sent again as ``retryPolicy`` says.
    package static func callerBoundServiceConfig(retrying: [MethodConfig.Name]) -> ServiceConfig {
        serviceConfig(timeout: nil, retrying: retrying)
    }
}
