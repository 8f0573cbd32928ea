import Foundation
import Logging
import RedisClient
import TestInfrastructure
import Testing

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
