import Foundation
import Logging
import RedisClient
import TestSupport
import Testing

/// Builds clients for tests: on the shared server (`RAHAT_TEST_REDIS_URL`) when one is given and the test needs
/// nothing special, else on a dedicated server started for the test.
enum TestRedis {
    static let logger: Logger = {
        var logger = Logger(label: "redis-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// A key prefix unique to one test, since tests share servers and run in parallel.
    static func prefix(_ name: String = #function) -> String {
        "test:\(name.prefix(while: { $0 != "(" })):\(UUID().uuidString.prefix(8)):"
    }

    /// Runs `body` with a client on a plain server; the client and any dedicated server are torn down after.
    static func withClient<T: Sendable>(
        protocolVersion: RedisProtocolVersion = .resp3,
        configure: (inout RedisConfiguration) -> Void = { _ in },
        _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        if let shared = ProcessInfo.processInfo.environment["RAHAT_TEST_REDIS_URL"], !shared.isEmpty {
            var configuration = try RedisConfiguration(url: shared)
            configuration.protocolVersion = protocolVersion
            configure(&configuration)
            return try await Self.run(configuration, body)
        }
        return try await Self.withServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.protocolVersion = protocolVersion
            configure(&configuration)
            return try await Self.run(configuration, body)
        }
    }

    /// Runs `body` with a client on a server of its own, for tests that change server-wide state.
    static func withDedicatedClient<T: Sendable>(
        protocolVersion: RedisProtocolVersion = .resp3,
        _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        try await Self.withServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.protocolVersion = protocolVersion
            return try await Self.run(configuration, body)
        }
    }

    /// Runs `body` with a dedicated server, stopping and removing it afterwards even when `body` throws.
    static func withServer<T: Sendable>(
        _ options: TestRedisServer.Options = TestRedisServer.Options(),
        _ body: (TestRedisServer) async throws -> T
    ) async throws -> T {
        let server = try await TestRedisServer.start(options)
        do {
            let result = try await body(server)
            await server.stop()
            server.cleanUp()
            return result
        } catch {
            await server.stop()
            server.cleanUp()
            throw error
        }
    }

    /// Runs `body` with a client for `configuration`, shutting it down afterwards even when `body` throws.
    static func run<T: Sendable>(
        _ configuration: RedisConfiguration, _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        try await RedisClient.withClient(configuration: configuration, logger: Self.logger, body)
    }
}

/// Expects `body` to throw a `RedisError` and returns it.
func expectRedisError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> RedisError? {
    do {
        try await body()
        Issue.record("expected a RedisError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as RedisError {
        return error
    } catch {
        Issue.record("expected a RedisError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The root suite: every integration suite nests in it and inherits the server requirement.
@Suite(.enabled(if: TestRedisServer.isEnabled, "needs redis-server (set RAHAT_TEST_REDIS_SERVER or install it)"))
struct RedisIntegrationTests {}
