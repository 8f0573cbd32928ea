import AuthService
import CoreService
import Foundation
import Gateway
package import Hummingbird
package import HummingbirdTesting
import Logging
import Persistence
package import RahatApp
import ServerKit
import ServiceLifecycle
package import TestInfrastructure

/// The whole platform in one process, as `rahat serve` runs it, driven through Hummingbird's
/// test client: tests read like a user's script against the public HTTP API.
package enum GatewayHarness {
    /// Runs `body` with a test client for the embedded platform on a fresh database.
    package static func withEmbedded<T: Sendable>(
        _ engine: DatabaseEngine,
        testing: TestingSetup = .router,
        configure: @Sendable (inout EmbeddedConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await withEmbedded(engine, testing: testing, configure: configure) { client, _ in try await body(client) }
    }

    /// The same, also telling `body` the configuration the platform runs with (where its
    /// databases are), for tests that set up state the API cannot create.
    package static func withEmbedded<T: Sendable>(
        _ engine: DatabaseEngine,
        testing: TestingSetup = .router,
        configure: @Sendable (inout EmbeddedConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol, EmbeddedConfiguration) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(engine) { database in
            var configuration = EmbeddedConfiguration(
                // Calls between the services may take a minute: the whole suite shares two cores.
                common: CommonConfiguration(
                    dataDirectory: NSTemporaryDirectory(), log: LogConfiguration(level: .warning),
                    rpcTimeout: .seconds(60)),
                gateway: GatewayConfiguration(host: "127.0.0.1", port: 0),
                auth: ServiceHarness.configuration(database: database.configuration(for: "auth")),
                core: CoreServiceConfiguration(database: database.configuration(for: "core"), pii: PIIKeys.generate())
            )
            configure(&configuration)
            let process = try await Platform.embedded(configuration: configuration, logger: .test)
            return try await run(process, testing: testing) { [configuration] client in
                try await body(client, configuration)
            }
        }
    }

    /// Runs a gateway process's background services, then `body` against its application.
    package static func run<App: ApplicationProtocol, T: Sendable>(
        _ process: GatewayProcess<App>,
        testing: TestingSetup,
        _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let group = ServiceGroup(
            configuration: .init(services: process.background.map { .init(service: $0) }, logger: .test)
        )
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            // Shut down gracefully, in order, also when `body` fails: cancelling the group instead
            // would close the databases under services still using them.
            let result: Result<T, any Error>
            do {
                result = .success(try await process.gateway.test(testing) { client in try await body(client) })
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            while let next = try await tasks.next() {
                if next == nil { break }
            }
            return try result.get()
        }
    }
}
