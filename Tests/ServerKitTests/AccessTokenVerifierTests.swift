import Foundation
import JWTKit
import ServerKit
import SharedModels
import Synchronization
import Testing
import TokenVerification

@Suite("Access-token verification")
struct AccessTokenVerifierTests {
    /// A signing key and its published public half.
    struct Signer {
        let key = ES256PrivateKey()
        let kid: String

        var published: PublishedSigningKey {
            PublishedSigningKey(keyID: kid, algorithm: "ES256", publicKeyPEM: key.publicKey.pemRepresentation)
        }

        func token(permissions: [String] = ["user:read"], expiresIn: TimeInterval = 900) async throws -> String {
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
            let now = Date()
            let claims = AccessTokenClaims(
                sub: UUID().uuidString.lowercased(),
                issuedAt: now,
                expiresAt: now.addingTimeInterval(expiresIn),
                id: UUID().uuidString,
                sessionID: nil,
                method: "pwd",
                apiKeyID: nil,
                permissions: permissions
            )
            return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
        }
    }

    /// A fake auth service endpoint that counts how often keys are fetched.
    final class KeyEndpoint: Sendable {
        let keys: Mutex<[PublishedSigningKey]>
        let fetches = Mutex(0)

        init(_ keys: [PublishedSigningKey]) {
            self.keys = Mutex(keys)
        }

        func fetch() -> [PublishedSigningKey] {
            fetches.withLock { $0 += 1 }
            return keys.withLock { $0 }
        }
    }

    @Test("verifies a token and exposes its permissions")
    func verifies() async throws {
        let signer = Signer(kid: "a")
        let endpoint = KeyEndpoint([signer.published])
        let verifier = AccessTokenVerifier { endpoint.fetch() }
        let principal = try await verifier.verify(try await signer.token(permissions: ["user:read", "role:read"]))
        #expect(principal.permissions.texts == ["role:read", "user:read"])
        #expect(principal.method == .password)
    }

    @Test("a token from a rotated-in key is accepted after one refetch")
    func rotation() async throws {
        // given
        let old = Signer(kid: "old")
        let new = Signer(kid: "new")
        let endpoint = KeyEndpoint([old.published])
        let verifier = AccessTokenVerifier(minimumRefetchInterval: .zero) { endpoint.fetch() }
        _ = try await verifier.verify(try await old.token())
        // when
        endpoint.keys.withLock { $0.append(new.published) }
        let principal = try await verifier.verify(try await new.token())
        // then
        #expect(principal.permissions.texts == ["user:read"])
        #expect(endpoint.fetches.withLock { $0 } == 2)
    }

    @Test("forged key ids do not flood the key endpoint")
    func forgedKeyIDs() async throws {
        let real = Signer(kid: "real")
        let endpoint = KeyEndpoint([real.published])
        let verifier = AccessTokenVerifier(minimumRefetchInterval: .seconds(60)) { endpoint.fetch() }
        _ = try await verifier.verify(try await real.token())
        for index in 0..<20 {
            let forged = try await Signer(kid: "forged-\(index)").token()
            await #expect(throws: ServiceError.self) { try await verifier.verify(forged) }
        }
        #expect(endpoint.fetches.withLock { $0 } == 1)
    }

    @Test("a remembered token is refused once it expires")
    func rememberedUntilExpiry() async throws {
        // given a token verified (and remembered) a moment before it expires
        let signer = Signer(kid: "a")
        let endpoint = KeyEndpoint([signer.published])
        let verifier = AccessTokenVerifier { endpoint.fetch() }
        let token = try await signer.token(expiresIn: 2)
        _ = try await verifier.verify(token)
        _ = try await verifier.verify(token)

        // when
        try await Task.sleep(for: .milliseconds(2_100))

        // then
        await #expect(throws: ServiceError.self) { try await verifier.verify(token) }
    }

    @Test("a remembered token is refused once its key is no longer published")
    func rememberedUntilKeyWithdrawn() async throws {
        // given a token verified with key a, then a replaced by b at the auth service
        let withdrawn = Signer(kid: "a")
        let current = Signer(kid: "b")
        let endpoint = KeyEndpoint([withdrawn.published])
        let verifier = AccessTokenVerifier(refreshInterval: .milliseconds(200)) { endpoint.fetch() }
        let token = try await withdrawn.token()
        _ = try await verifier.verify(token)
        endpoint.keys.withLock { $0 = [current.published] }

        // when the verifier's keys are due for a refresh
        try await Task.sleep(for: .milliseconds(300))

        // then
        await #expect(throws: ServiceError.self) { try await verifier.verify(token) }
        #expect(try await verifier.verify(try await current.token()).method == .password)
        // At least the refresh that found the key withdrawn (more on a machine slow enough that
        // the 200 ms interval passed again).
        #expect(endpoint.fetches.withLock { $0 } >= 2)
    }

    @Test("expired, tampered and foreign tokens are refused as unauthenticated")
    func refusals() async throws {
        let signer = Signer(kid: "a")
        let endpoint = KeyEndpoint([signer.published])
        let verifier = AccessTokenVerifier { endpoint.fetch() }
        let expired = try await signer.token(expiresIn: -5)
        var tampered = try await signer.token()
        tampered.removeLast(2)
        tampered += "AA"
        let foreign = try await Signer(kid: "a").token()
        for token in [expired, tampered, foreign, "not.a.jwt", ""] {
            do {
                _ = try await verifier.verify(token)
                Issue.record("accepted \(token.prefix(20))")
            } catch {
                #expect(error.kind == .unauthenticated)
            }
        }
    }
}
