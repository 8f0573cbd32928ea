import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import RahatApp
import ServerKit
import TestSupport
import Testing

extension GatewayTests {
    /// Guessing credentials costs the guesser, not the platform (security review M1).
    @Suite("Authentication abuse")
    struct AuthenticationAbuse {
        @Test("failed credentials are throttled per address before they cost the auth service a call")
        func failedCredentialsThrottled() async throws {
            try await GatewayHarness.withEmbedded(
                .sqlite, configure: { $0.gateway.rateLimits.authFailures = RateLimit(5, per: .seconds(60)) }
            ) { client in
                // given a signed-in user and a partner key behind the same address as a guesser
                let admin = try await client.login()
                let created = try await client.send(
                    .post, "/v1/api-keys", json: ["name": "registry", "permissions": ["user:read"]],
                    bearer: admin.access)
                let key = try #require(try created.json["key"] as? String, "\(created)")
                let keyHeader = HTTPField.Name("X-API-Key")!
                _ = try await client.send(.get, "/v1/users", headers: [keyHeader: key])

                // when the guesser sends ten made-up keys and two forged tokens
                var statuses: [Int] = []
                for index in 0..<10 {
                    let guess = "rhk_0000000\(index)_" + String(repeating: "A", count: 43)
                    statuses.append(
                        Int(try await client.send(.get, "/v1/users", headers: [keyHeader: guess]).status.code))
                }
                let forged = try await client.send(.get, "/v1/users", bearer: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
                let refused = try await client.send(
                    .get, "/v1/users", headers: [keyHeader: "rhk_99999999_" + String(repeating: "B", count: 43)])
                // and the others go on
                let person = try await client.send(.get, "/v1/auth/me", bearer: admin.access)
                let partner = try await client.send(.get, "/v1/users", headers: [keyHeader: key])

                // then the first five are judged and the rest refused without asking
                #expect(Array(statuses.prefix(5)) == Array(repeating: 401, count: 5), "\(statuses)")
                #expect(Array(statuses.dropFirst(5)) == Array(repeating: 429, count: 5), "\(statuses)")
                #expect(forged.status == .unauthorized)
                #expect(refused.status == .tooManyRequests)
                #expect(refused.problemCode == "auth.too_many_failures")
                #expect(refused.headers[.retryAfter].flatMap { Int($0) }.map { $0 >= 1 } == true)
                #expect(person.status == .ok, "\(person)")
                #expect(partner.status == .ok, "\(partner)")
            }
        }
    }
}
