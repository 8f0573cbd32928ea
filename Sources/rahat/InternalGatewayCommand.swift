import ArgumentParser
import RahatApp
import ServerKit

struct InternalGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "internal-gateway",
        abstract: "The internal gateway: HAProxy between the services of the distributed deployment.",
        subcommands: [Config.self, Routes.self]
    )

    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print haproxy.cfg for the internal gateway, from the process list in the environment.",
            discussion: """
                Name each service's replicas (RAHAT_AUTH_REPLICAS, RAHAT_CORE_REPLICAS, RAHAT_LEDGER_REPLICAS, \
                RAHAT_C2C_REPLICAS: host:grpcPort[/opsPort], comma-separated) and, for mutual TLS and the \
                allow-list, RAHAT_INTERNAL_GATEWAY_PEM and RAHAT_GRPC_TLS_CA. Then point every process's \
                RAHAT_<SERVICE>_ADDRESS at the gateway's listener for that service. See docs/architecture.md.
                """
        )

        func run() async throws {
            var source = try await loadSource()
            let configuration = InternalGatewayConfiguration(from: &source)
            do {
                try source.validate()
            } catch {
                throw ValidationError(error.description)
            }
            Console.line(String(HAProxyConfiguration.render(configuration).dropLast()))
        }
    }

    struct Routes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the allow-list: every method, who may call it, and whether it is retried."
        )

        func run() async throws {
            Console.line(InternalRoutes.markdownTable)
        }
    }
}
