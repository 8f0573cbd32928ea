import Foundation
package import Logging
package import RedisClient

/// Redis for tests: the server `scripts/test` started (`RAHAT_TEST_REDIS_URL`), for suites that run
/// their behaviour against Redis as well as the in-process default, and servers of a test's own.
package enum TestRedis {
    /// A job-queue key prefix of one test's own on the shared server, so no other test's worker
    /// takes its jobs.
    package static func jobsKeyPrefix() -> String {
        "rahat:test-\(UUID().uuidString.prefix(8).lowercased()):jobs:"
    }

    package static var url: String? {
        ProcessInfo.processInfo.environment["RAHAT_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A key prefix unique to one test, since tests share servers and run in parallel.
    package static func prefix(_ name: String = #function) -> String {
        "test:\(name.prefix(while: { $0 != "(" })):\(UUID().uuidString.prefix(8)):"
    }

    /// A client of the test server (`RAHAT_TEST_REDIS_URL`), or of a server started for this
    /// test when none is given, shut down after `body`. Its connections carry `name`
    /// (`CLIENT SETNAME`) when one is given, so a test can find them in `CLIENT LIST`;
    /// `configure` has the last word on the settings.
    package static func withClient<T: Sendable>(
        named name: String? = nil,
        protocolVersion: RedisProtocolVersion = .resp3,
        configure: (inout RedisConfiguration) -> Void = { _ in },
        _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        func settings(_ url: String) throws -> RedisConfiguration {
            var configuration = try RedisConfiguration(url: url)
            configuration.clientName = name
            configuration.protocolVersion = protocolVersion
            configuration.poolSize = 4
            // A two-core machine running the whole suite answers slowly; tests check behaviour.
            configuration.commandTimeout = .seconds(10)
            configuration.connectTimeout = .seconds(10)
            configuration.poolWaitTimeout = .seconds(30)
            configure(&configuration)
            return configuration
        }
        if let url { return try await run(try settings(url), body) }
        return try await withServer { server in try await run(try settings(server.url), body) }
    }

    /// A client of a server of its own, for tests that change server-wide state.
    package static func withDedicatedClient<T: Sendable>(
        protocolVersion: RedisProtocolVersion = .resp3, _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        try await withServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.protocolVersion = protocolVersion
            return try await run(configuration, body)
        }
    }

    /// A server started for `body`, stopped and removed afterwards even when `body` throws.
    package static func withServer<T: Sendable>(
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

    /// A client of a port nothing listens on: Redis "down", for the fallback paths.
    package static func withUnreachableClient<T: Sendable>(_ body: (RedisClient) async throws -> T) async throws -> T {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: 1)
        configuration.connectTimeout = .milliseconds(500)
        configuration.commandTimeout = .milliseconds(500)
        return try await run(configuration, body)
    }

    /// A client for `configuration`, shut down after `body` even when it throws.
    package static func run<T: Sendable>(
        _ configuration: RedisConfiguration, _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        try await RedisClient.withClient(configuration: configuration, logger: logger, body)
    }

    /// Quiet: a test that expects Redis to fail should not fill the log.
    package static let logger: Logger = {
        var logger = Logger(label: "rahat.test.redis")
        logger.logLevel = .critical
        return logger
    }()
}
