public import GRPCCore
public import ServiceLifecycle

/// Runs a gRPC server as a lifecycle service: serves until graceful shutdown, then drains in-flight RPCs.
public struct GRPCServerService<Transport: ServerTransport>: Service {
    public let server: GRPCServer<Transport>

    public init(server: GRPCServer<Transport>) {
        self.server = server
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}

/// Runs a gRPC client's connections as a lifecycle service.
public struct GRPCClientService<Transport: ClientTransport>: Service {
    public let client: GRPCClient<Transport>

    public init(client: GRPCClient<Transport>) {
        self.client = client
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.runConnections()
        } onGracefulShutdown: {
            client.beginGracefulShutdown()
        }
    }
}

/// The transport-level defaults every Rahat gRPC client uses.
public enum RPCDefaults {
    /// The deadline applied to every call that does not set its own: no call waits forever.
    public static let timeout: Duration = .seconds(10)

    /// A service config that gives every method of every service the default deadline.
    public static var serviceConfig: ServiceConfig {
        ServiceConfig(methodConfig: [MethodConfig(names: [MethodConfig.Name(service: "")], timeout: timeout)])
    }
}
