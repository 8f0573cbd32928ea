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
    /// The deadline applied to every call that does not set its own: no call waits forever.
    package static let timeout: Duration = .seconds(10)

    /// Calls that move whole files take as long as the file takes to arrive, within these bounds.
    package static let streamingTimeouts: [(service: String, method: String, timeout: Duration)] = [
        ("rahat.core.v1.ImportService", "UploadImport", .seconds(3600)),
        ("rahat.core.v1.ImportService", "GetImportRejects", .seconds(600)),
    ]

    /// A service config that gives every method of every service the default deadline, and the
    /// file-moving methods theirs.
    package static var serviceConfig: ServiceConfig { serviceConfig(timeout: timeout) }

    /// The same with another default deadline (tests on a loaded machine use a longer one).
    package static func serviceConfig(timeout: Duration) -> ServiceConfig {
        ServiceConfig(
            methodConfig: [MethodConfig(names: [MethodConfig.Name(service: "")], timeout: timeout)]
                + streamingTimeouts.map {
                    MethodConfig(
                        names: [MethodConfig.Name(service: $0.service, method: $0.method)], timeout: $0.timeout)
                }
        )
    }
}
