import AuthAPI
import Crypto
import Foundation
import GRPCCore
import HTTPTypes
import Logging
import ServerKit
import SharedModels
import SwiftProtobuf
import Synchronization

/// Who is calling through the gateway, and the credential to forward to services on its behalf.
struct RequestIdentity: Sendable {
    var principal: Principal
    /// `Bearer <access token>`: the caller's own token, or the one minted for its API key.
    var forwardedAuthorization: String

    @TaskLocal static var current: RequestIdentity?
}

/// Establishes the caller from the request headers.
///
/// Access tokens are verified locally with the auth service's public keys (no call per request).
/// API keys are checked by the auth service, which answers with a short-lived access token for
/// the key; that answer is cached for a few seconds, keyed by the key's digest, so a busy partner
/// system costs one auth call per key per cache period and a revoked key stops working within it.
final class GatewayAuthenticator: Sendable {
    private let verifier: AccessTokenVerifier
    private let backend: AuthBackend
    private let apiKeyCacheTTL: Duration
    private let cache = Mutex<[String: CachedKey]>([:])
    private static let maxCachedKeys = 10_000

    private struct CachedKey {
        var identity: RequestIdentity
        var validUntil: ContinuousClock.Instant
    }

    init(backend: AuthBackend, apiKeyCacheTTL: Duration, logger: Logger) {
        self.backend = backend
        self.apiKeyCacheTTL = apiKeyCacheTTL
        verifier = AccessTokenVerifier(logger: logger) {
            let set = try await backend.auth.getSigningKeys(Rahat_Auth_V1_GetSigningKeysRequest())
            return set.keys.map {
                PublishedSigningKey(keyID: $0.keyID, algorithm: $0.algorithm, publicKeyPEM: $0.publicKeyPem)
            }
        }
    }

    /// The caller, or `unauthenticated` when the request carries no usable credential.
    func authenticate(_ headers: HTTPFields) async throws -> RequestIdentity {
        if let apiKey = headers[.apiKey] {
            return try await identity(forApiKey: apiKey)
        }
        guard let authorization = headers[.authorization] else {
            throw ServiceError(
                .unauthenticated,
                reason: "auth.missing_credentials",
                message:
                    "Send 'Authorization: Bearer <access token>', 'Authorization: ApiKey <key>' or 'X-API-Key: <key>'."
            )
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        let scheme = parts.first?.lowercased() ?? ""
        let credential = parts.count == 2 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : ""
        switch scheme {
        case "bearer" where !credential.isEmpty:
            let principal = try await verifier.verify(credential)
            return RequestIdentity(principal: principal, forwardedAuthorization: "Bearer \(credential)")
        case "apikey" where !credential.isEmpty:
            return try await identity(forApiKey: credential)
        default:
            throw ServiceError(
                .unauthenticated,
                reason: "auth.unsupported_scheme",
                message: "The Authorization header must use the Bearer or ApiKey scheme."
            )
        }
    }

    private func identity(forApiKey key: String) async throws -> RequestIdentity {
        let digest = SHA256.hash(data: Data(key.utf8)).hexString
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[digest] }), cached.validUntil > now {
            return cached.identity
        }
        let verified = try await backend.auth.verifyApiKey(
            .with { $0.key = key },
            metadata: GatewayCall.metadata(authorization: nil)
        )
        let principal = try await verifier.verify(verified.accessToken)
        let identity = RequestIdentity(principal: principal, forwardedAuthorization: "Bearer \(verified.accessToken)")
        // Never cache past the minted token's own expiry (less a margin for the services' clocks).
        let tokenLifetime = Duration.seconds(max(0, verified.expiresInSeconds - 10))
        let validUntil = now + min(apiKeyCacheTTL, tokenLifetime)
        cache.withLock { cache in
            if cache.count >= Self.maxCachedKeys {
                cache = cache.filter { $0.value.validUntil > now }
                if cache.count >= Self.maxCachedKeys { cache.removeAll(keepingCapacity: true) }
            }
            cache[digest] = CachedKey(identity: identity, validUntil: validUntil)
        }
        return identity
    }
}

/// Metadata for calls the gateway makes on behalf of the current request.
enum GatewayCall {
    static func metadata(authorization: String? = RequestIdentity.current?.forwardedAuthorization) -> Metadata {
        let edge = GatewayRequest.current
        return IncomingCall(authorization: authorization, clientIP: edge?.clientIP, requestID: edge?.requestID).metadata
    }
}
