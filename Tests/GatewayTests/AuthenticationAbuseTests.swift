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
                // while what cannot be a key at all is refused as such: it never costs the auth service a call
                let malformed = try await client.send(.get, "/v1/users", headers: [keyHeader: "not-a-key"])
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
                #expect(
                    malformed.status == .unauthorized && malformed.problemCode == "auth.invalid_api_key", "\(malformed)"
                )
                #expect(person.status == .ok, "\(person)")
                #expect(partner.status == .ok, "\(partner)")
            }
        }

        @Test(
            "a revoked key, an ended session and a disabled user are refused at once, not when their tokens expire",
            arguments: DatabaseEngine.available)
        func revocationAtOnce(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given a partner key in use (cached for 30 s), a signed-in agent, and a second session of the admin
                let admin = try await client.login()
                let created = try await client.send(
                    .post, "/v1/api-keys", json: ["name": "registry", "permissions": ["user:read"]],
                    bearer: admin.access)
                let key = try #require(try created.json["key"] as? String, "\(created)")
                let keyID = try #require(try created.json["id"] as? String)
                let keyHeader = HTTPField.Name("X-API-Key")!
                #expect(try await client.send(.get, "/v1/users", headers: [keyHeader: key]).status == .ok)
                let agent = try await client.createUser("agent@example.org", role: "field_agent", bearer: admin.access)
                let agentID = agent.id
                let session = try await client.login()
                #expect(try await client.send(.get, "/v1/auth/me", bearer: session.access).status == .ok)

                // when the key is revoked, the session ended and the agent disabled
                let revoked = ContinuousClock.now
                _ = try await client.send(.delete, "/v1/api-keys/\(keyID)", bearer: admin.access)
                _ = try await client.send(
                    .post, "/v1/auth/logout", json: ["refreshToken": session.refresh], bearer: session.access)
                _ = try await client.send(.delete, "/v1/users/\(agentID)", bearer: admin.access)

                // then within a moment each is refused, though its token would live for minutes
                func refusedSoon(_ request: @Sendable () async throws -> HTTPAnswer) async throws -> HTTPAnswer {
                    var answer = try await request()
                    let deadline = ContinuousClock.now + .seconds(5)
                    while answer.status != .unauthorized, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(50))
                        answer = try await request()
                    }
                    return answer
                }
                let byKey = try await refusedSoon {
                    try await client.send(.get, "/v1/users", headers: [keyHeader: key])
                }
                let bySession = try await refusedSoon {
                    try await client.send(.get, "/v1/auth/me", bearer: session.access)
                }
                let byAgent = try await refusedSoon { try await client.send(.get, "/v1/auth/me", bearer: agent.access) }
                let took = ContinuousClock.now - revoked
                #expect(byKey.status == .unauthorized, "\(byKey)")
                #expect(bySession.status == .unauthorized && bySession.problemCode == "auth.revoked", "\(bySession)")
                #expect(byAgent.status == .unauthorized && byAgent.problemCode == "auth.revoked", "\(byAgent)")
                #expect(took < .seconds(5), "took \(took)")
                // while the admin's own session goes on
                #expect(try await client.send(.get, "/v1/auth/me", bearer: admin.access).status == .ok)
            }
        }

        @Test("the scheme is read in any case and the credential with the spaces and tabs HTTP allows around it")
        func credentialForms() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let admin = try await client.login()
                let spaced = try await client.send(
                    .get, "/v1/auth/me", headers: [.authorization: "bearer \t \(admin.access) \t"])
                let upper = try await client.send(
                    .get, "/v1/auth/me", headers: [.authorization: "BEARER \(admin.access)"])
                let blank = try await client.send(.get, "/v1/auth/me", headers: [.authorization: "Bearer \t "])
                let inner = try await client.send(
                    .get, "/v1/auth/me",
                    headers: [.authorization: "Bearer \(admin.access.prefix(20)) \(admin.access.dropFirst(20))"])
                #expect(spaced.status == .ok, "\(spaced)")
                #expect(upper.status == .ok, "\(upper)")
                #expect(blank.status == .unauthorized, "\(blank)")
                #expect(inner.status == .unauthorized, "\(inner)")
            }
        }
    }
}
