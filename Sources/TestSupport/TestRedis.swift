import Foundation
import Logging
package import RedisClient

/// The Redis server `scripts/test` started (`RAHAT_TEST_REDIS_URL`), for suites that run their
/// behaviour against Redis as well as the in-process default.
package enum TestRedis {
    /// A job-queue key prefix of one test's own on the shared server, so no other test's worker
    /// takes its jobs.
    package static func jobsKeyPrefix() -> String {
        "rahat:test-\(UUID().uuidString.prefix(8).lowercased()):jobs:"
    }

    package static var url: String? {
        ProcessInfo.processInfo.environment["RAHAT_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    enum Failure: Error, CustomStringConvertible {
        case notConfigured
        var description: String {
            "RAHAT_TEST_REDIS_URL is not set; run the suite with scripts/test, which starts Redis"
        }
    }

    /// A client of the test server, shut down after `body`; its connections carry `name`
    /// (`CLIENT SETNAME`) when one is given, so a test can find them in `CLIENT LIST`.
    package static func withClient<T: Sendable>(
        named name: String? = nil, _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        guard let url else { throw Failure.notConfigured }
        var configuration = try RedisConfiguration(url: url)
        configuration.clientName = name
        configuration.poolSize = 4
        // A two-core machine running the whole suite answers slowly; tests check behaviour.
        configuration.commandTimeout = .seconds(10)
        configuration.connectTimeout = .seconds(10)
        configuration.poolWaitTimeout = .seconds(30)
        return try await with(configuration, body)
    }

    /// A client of a port nothing listens on: Redis "down", for the fallback paths.
    package static func withUnreachableClient<T: Sendable>(_ body: (RedisClient) async throws -> T) async throws -> T {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: 1)
        configuration.connectTimeout = .milliseconds(500)
        configuration.commandTimeout = .milliseconds(500)
        return try await with(configuration, body)
    }

    private static func with<T: Sendable>(
        _ configuration: RedisConfiguration, _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        try await RedisClient.withClient(
            configuration: configuration, logger: Logger(label: "rahat.test.redis"), body)
    }
}
