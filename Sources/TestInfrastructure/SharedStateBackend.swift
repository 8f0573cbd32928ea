import Foundation
import RedisStores
package import ServerKit

/// Where shared state (cache entries, rate-limit counts) lives in a test: this process's memory,
/// as in the embedded default, or the Redis server `scripts/test` started. Behavioural suites run
/// once per backend, like ``DatabaseEngine``.
package enum SharedStateBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case memory, redis

    package var description: String { rawValue }

    /// The backends available in this run: Redis needs `RAHAT_TEST_REDIS_URL`; under CI its
    /// absence is an error, not a silent skip.
    package static var available: [SharedStateBackend] {
        if TestRedis.url != nil || ProcessInfo.processInfo.environment["CI"] != nil { return [.memory, .redis] }
        return [.memory]
    }

    /// Runs `body` with a cache store of this backend.
    package func withCacheStore<T: Sendable>(_ body: (any CacheStore) async throws -> T) async throws -> T {
        switch self {
        case .memory: return try await body(InMemoryCacheStore())
        case .redis: return try await TestRedis.withClient { try await body(RedisCacheStore(client: $0)) }
        }
    }

    /// Runs `body` with a rate limiter of this backend.
    package func withRateLimiter<T: Sendable>(_ body: (any RateLimiter) async throws -> T) async throws -> T {
        switch self {
        case .memory: return try await body(InMemoryRateLimiter())
        case .redis: return try await TestRedis.withClient { try await body(RedisRateLimiter(client: $0)) }
        }
    }

    /// Runs `body` with a recent-writers store of this backend.
    package func withRecentWriters<T: Sendable>(_ body: (any RecentWriters) async throws -> T) async throws -> T {
        switch self {
        case .memory: return try await body(InMemoryRecentWriters())
        case .redis: return try await TestRedis.withClient { try await body(RedisRecentWriters(client: $0)) }
        }
    }

    /// Runs `body` with a session store of this backend, its keys under a prefix of the test's own.
    package func withSessionStore<T: Sendable>(
        _ name: String = #function, _ body: (any SessionStore) async throws -> T
    ) async throws -> T {
        switch self {
        case .memory: return try await body(InMemorySessionStore())
        case .redis:
            return try await TestRedis.withClient {
                try await body(RedisSessionStore(client: $0, keyPrefix: TestRedis.prefix(name)))
            }
        }
    }
}
