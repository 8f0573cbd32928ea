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
    /// none, only the file-moving methods have one.
    package static func serviceConfig(timeout: Duration?) -> ServiceConfig {
        ServiceConfig(
            methodConfig: (timeout.map { [MethodConfig(names: [MethodConfig.Name(service: "")], timeout: $0)] } ?? [])
                + streamingTimeouts.map {
                    MethodConfig(
                        names: [MethodConfig.Name(service: $0.service, method: $0.method)], timeout: $0.timeout)
                }
        )
    }

    /// For a caller that bounds its calls itself (the gateway bounds each request): no default
    /// deadline, so grpc-swift arms no timer per call on either side; the file-moving methods keep
    /// theirs, as they outlive the request that starts them.
    package static var callerBoundServiceConfig: ServiceConfig { serviceConfig(timeout: nil) }
}
