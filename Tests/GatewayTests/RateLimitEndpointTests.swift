import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import RahatApp
import ServerKit
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    /// Rate limits at the public edge, with the embedded default's in-process limiter (the Redis
    /// limiter runs the same behaviour in ServerKitTests and in the distributed tests).
    @Suite("Rate limits")
    struct RateLimits {
        static func header(_ name: String) -> HTTPField.Name {
            guard let field = HTTPField.Name(name) else { preconditionFailure("a valid header name") }
            return field
        }

        static let limitName = header("RateLimit-Limit")
        static let remainingName = header("RateLimit-Remaining")
        static let resetName = header("RateLimit-Reset")

        static func seconds(_ header: String?, within range: ClosedRange<Int>) -> Bool {
            header.flatMap(Int.init).map(range.contains) ?? false
        }

        static func limits(
            _ limits: [RateLimitConfiguration.RouteClass: RateLimit]
        )
            -> @Sendable (
                inout EmbeddedConfiguration
            ) -> Void
        {
            { $0.gateway.rateLimits = RateLimitConfiguration(limits: limits) }
        }

        @Test("reads are counted per caller: headers on every answer, then 429 problem+json with Retry-After")
        func readsPerCaller() async throws {
            let configure = Self.limits([
                .read: RateLimit(3, per: .seconds(3600)), .write: RateLimit(50, per: .seconds(3600)),
            ])
            try await GatewayHarness.withEmbedded(.sqlite, configure: configure) { client in
                // given
                let tokens = try await client.login()
                // when
                var answers: [HTTPAnswer] = []
                for _ in 0..<4 { answers.append(try await client.send(.get, "/v1/auth/me", bearer: tokens.access)) }
                let created = try await client.send(
                    .post, "/v1/api-keys", json: ["name": "partner", "permissions": ["user:read"]],
                    bearer: tokens.access)
                let key = try #require(try created.json["key"] as? String)
                let byKey = try await client.send(.get, "/v1/auth/me", headers: [.authorization: "ApiKey \(key)"])
                // then
                #expect(answers.prefix(3).map(\.status) == [.ok, .ok, .ok])
                #expect(answers.prefix(3).map { $0.headers[Self.remainingName] } == ["2", "1", "0"])
                #expect(answers[0].headers[Self.limitName] == "3")
                // Hour-long windows keep a slow machine's elapsed time out of the numbers: one read
                // frees up every 20 minutes, the whole allowance after an hour.
                #expect(Self.seconds(answers[0].headers[Self.resetName], within: 1150...1200))
                let refused = answers[3]
                #expect(refused.status == .tooManyRequests)
                #expect(refused.headers[.contentType] == "application/problem+json")
                #expect(refused.problemCode == "rate_limit.exceeded")
                #expect(Self.seconds(refused.headers[.retryAfter], within: 1150...1200))
                #expect(refused.headers[Self.remainingName] == "0")
                #expect(refused.headers[Self.limitName] == "3")
                #expect(try refused.json["requestId"] as? String != nil)
                #expect(created.status == .created, "writes are a class of their own")
                #expect(byKey.status == .ok, "an API key has its own count")
                #expect(byKey.headers[Self.remainingName] == "2")
            }
        }

        @Test("failed sign-ins are limited per client address; successful ones give their charge back")
        func loginFailures() async throws {
            let configure = Self.limits([.login: RateLimit(3, per: .seconds(3600))])
            try await GatewayHarness.withEmbedded(.sqlite, configure: configure) { client in
                // given: more successful sign-ins than the limit
                for _ in 0..<5 { _ = try await client.login() }
                // when: guesses use up the rest
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<4 {
                    let answer = try await client.send(
                        .post, "/v1/auth/login",
                        json: ["email": ServiceHarness.adminEmail, "password": "wrong guess 123"])
                    statuses.append(answer.status)
                }
                let correctButThrottled = try await client.send(
                    .post, "/v1/auth/login",
                    json: ["email": ServiceHarness.adminEmail, "password": ServiceHarness.adminPassword])
                // then
                #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests])
                #expect(correctButThrottled.status == .tooManyRequests)
                #expect(Self.seconds(correctButThrottled.headers[.retryAfter], within: 1100...1200))
            }
        }

        @Test("bulk routes have their own, smaller allowance; probes are never limited")
        func bulkAndProbes() async throws {
            let configure = Self.limits([
                .read: RateLimit(1, per: .seconds(3600)), .write: RateLimit(100, per: .seconds(3600)),
                .bulk: RateLimit(1, per: .seconds(3600)),
            ])
            try await GatewayHarness.withEmbedded(.sqlite, configure: configure) { client in
                let tokens = try await client.login()
                let people: [[String: Any]] = [["name": "Asha", "gender": "female"]]
                let first = try await client.send(
                    .post, "/v1/beneficiaries/batch", json: ["items": people], bearer: tokens.access)
                let second = try await client.send(
                    .post, "/v1/beneficiaries/batch", json: ["items": people], bearer: tokens.access)
                let single = try await client.send(
                    .post, "/v1/beneficiaries", json: ["name": "Binita", "gender": "female"],
                    bearer: tokens.access)
                var probes: [HTTPResponse.Status] = []
                for _ in 0..<5 { probes.append(try await client.send(.get, "/health").status) }
                #expect(first.status == .created)
                #expect(second.status == .tooManyRequests)
                #expect(single.status == .created)
                #expect(probes == Array(repeating: .ok, count: 5))
                #expect(try await client.send(.get, "/health").headers[Self.limitName] == nil)
            }
        }

        @Test("limits come from configuration; bad ones are reported together with their names")
        func configuration() throws {
            var source = ConfigurationSource(environment: [
                "RAHAT_RATE_LIMIT_READ": "100/10s", "RAHAT_RATE_LIMIT_BULK": "off",
                "RAHAT_RATE_LIMIT_WRITE": "lots", "RAHAT_RATE_LIMIT_LOGIN": "0/1m",
                "RAHAT_RATE_LIMIT_FAIL_CLOSED": "true",
            ])
            let configuration = GatewayConfiguration(from: &source)
            #expect(configuration.rateLimits.limits[.read] == RateLimit(100, per: .seconds(10)))
            #expect(configuration.rateLimits.limits[.bulk] == nil)
            #expect(configuration.rateLimits.failClosed)
            #expect(source.problems.count == 2)
            #expect(source.problems.contains { $0.hasPrefix("RAHAT_RATE_LIMIT_WRITE:") })
            #expect(source.problems.contains { $0.hasPrefix("RAHAT_RATE_LIMIT_LOGIN:") })
        }
    }
}
