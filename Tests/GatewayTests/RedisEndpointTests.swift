import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import RahatApp
import RedisClient
import ServerKit
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    /// The platform with `REDIS_URL` set: shared cache and limits in Redis, and what happens when
    /// Redis cannot be reached.
    @Suite("Redis")
    struct RedisBacked {
        static let redisAvailable = TestRedis.url != nil || ProcessInfo.processInfo.environment["CI"] != nil

        /// The value of one sample on the `/metrics` page, 0 when absent.
        static func metric(_ page: String, _ sample: String) -> Double {
            MetricsPage.value(of: sample, in: page) ?? 0
        }

        static func metrics(_ client: any TestClientProtocol) async throws -> String {
            String(decoding: try await client.send(.get, "/metrics").body, as: UTF8.self)
        }

        @Test("limits and cached reads live in Redis under rahat: keys", .enabled(if: redisAvailable))
        func sharedState() async throws {
            let url = try #require(TestRedis.url)
            try await GatewayHarness.withEmbedded(
                .sqlite,
                configure: {
                    // Its own job queue: no other test's worker takes this test's jobs.
                    $0.common.redis = RedisSettings(
                        url: url, commandTimeout: .seconds(10),
                        jobsKeyPrefix: TestRedis.jobsKeyPrefix())
                    $0.gateway.rateLimits = RateLimitConfiguration(limits: [
                        .read: RateLimit(100, per: .seconds(3600)), .write: RateLimit(100, per: .seconds(3600)),
                    ])
                }
            ) { client in
                // given
                let tokens = try await client.login()
                let me = try await client.send(.get, "/v1/auth/me", bearer: tokens.access)
                let userID = try #require((try me.json["user"] as? [String: Any])?["id"] as? String)
                let created = try await client.send(
                    .post, "/v1/beneficiaries", json: ["name": "Kamala Tamang", "gender": "female"],
                    bearer: tokens.access)
                let id = try #require(try created.json["id"] as? String, "\(created)")
                // The verification job's outcome drops the cached read; wait for it first.
                var reads = 1
                var read = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                let deadline = ContinuousClock.now + .seconds(30)
                while try read.json["verificationStatus"] as? String == "pending", ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                    read = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                    reads += 1
                }
                // when
                let cachedRead = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                // then
                #expect(cachedRead.status == .ok)
                #expect(
                    cachedRead.headers[HTTPField.Name("RateLimit-Remaining")!] == String(100 - 1 - reads - 1))
                try await TestRedis.withClient { redis in
                    let limitTTL = try await redis.timeToLive("rahat:ratelimit:read:user:\(userID)")
                    #expect((limitTTL ?? .zero) > .seconds(30))
                    let cached = try await redis.get("rahat:core:beneficiary:v1:{\(id)}:pii")
                    #expect(cached != nil)
                }
            }
        }

        @Test("Redis down, failing open: every request is still answered, and the fallbacks are counted")
        func downFailOpen() async throws {
            try await GatewayHarness.withEmbedded(
                .sqlite,
                configure: {
                    $0.common.redis = RedisSettings(url: "redis://127.0.0.1:1", commandTimeout: .milliseconds(500))
                }
            ) { client in
                // given
                let before = try await Self.metrics(client)
                let tokens = try await client.login()
                let created = try await client.send(
                    .post, "/v1/beneficiaries", json: ["name": "Durga Khadka", "gender": "female"],
                    bearer: tokens.access)
                let id = try #require(try created.json["id"] as? String)
                // when
                let read = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                let updated = try await client.send(
                    .patch, "/v1/beneficiaries/\(id)", json: ["bankedStatus": "banked"], bearer: tokens.access)
                let reread = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                let after = try await Self.metrics(client)
                // then
                #expect(created.status == .created)
                #expect(read.status == .ok)
                #expect(try read.json["name"] as? String == "Durga Khadka")
                #expect(updated.status == .ok)
                #expect(try reread.json["bankedStatus"] as? String == "banked")
                #expect(read.headers[HTTPField.Name("RateLimit-Limit")!] == nil, "no decision, so no headers")
                let cacheFallbacks = #"rahat_cache_fallbacks_total{cache="beneficiary"}"#
                let limitFallbacks = #"rahat_rate_limit_fallbacks_total{policy="open"}"#
                #expect(Self.metric(after, cacheFallbacks) >= Self.metric(before, cacheFallbacks) + 2)
                #expect(Self.metric(after, limitFallbacks) >= Self.metric(before, limitFallbacks) + 4)
            }
        }

        @Test("Redis down, failing closed: 503 problem+json, and the gateway reports itself not ready")
        func downFailClosed() async throws {
            try await GatewayHarness.withEmbedded(
                .sqlite,
                configure: {
                    $0.common.redis = RedisSettings(url: "redis://127.0.0.1:1", commandTimeout: .milliseconds(500))
                    $0.gateway.rateLimits.failClosed = true
                }
            ) { client in
                let login = try await client.send(
                    .post, "/v1/auth/login",
                    json: ["email": ServiceHarness.adminEmail, "password": ServiceHarness.adminPassword])
                let health = try await client.send(.get, "/health")
                let readiness = try await client.send(.get, "/readiness")
                #expect(login.status == .serviceUnavailable)
                #expect(login.problemCode == "rate_limit.unavailable")
                #expect(login.headers[.retryAfter] == "1")
                #expect(health.status == .ok)
                #expect(readiness.status == .serviceUnavailable)
                let checks = try #require(try readiness.json["checks"] as? [[String: Any]])
                #expect(checks.contains { $0["name"] as? String == "redis" && $0["status"] as? String != "up" })
            }
        }
    }
}
