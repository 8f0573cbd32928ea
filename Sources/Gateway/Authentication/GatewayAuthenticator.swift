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
import TokenVerification

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
///
/// Failures are what an attacker can make cheap for themselves and dear for the platform: a key
/// the auth service refused is remembered for a while (no second call for it), and every failed
/// credential is charged to the client's address. An address over its budget is refused (429)
/// whenever answering would cost a call to the auth service; a caller behind the same address
/// with a valid token or a recently verified key goes on working.
final class GatewayAuthenticator: Sendable {
    private let verifier: AccessTokenVerifier
    private let backend: AuthBackend
    private let apiKeyCacheTTL: Duration
    private let cache = Mutex<[String: CachedKey]>([:])
    /// Digests of keys the auth service refused, and until when that answer stands.
    private let refusedKeys = Mutex<[String: ContinuousClock.Instant]>([:])
    private let failures: FailureThrottle
    /// Sessions, keys and users revoked since their tokens were issued.
    private let revoked: RevokedCredentials
    private static let maxCachedKeys = 10_000
    /// How long a refused key is answered without asking again: a key never turns valid later
    /// (keys are made by the auth service), so this only bounds memory.
    private static let refusedKeyTTL = Duration.seconds(60)

    private struct CachedKey {
        var identity: RequestIdentity
        var validUntil: ContinuousClock.Instant
    }

    init(
        backend: AuthBackend, apiKeyCacheTTL: Duration, limiter: any RateLimiter = InMemoryRateLimiter(),
        failureLimit: RateLimit? = nil, revoked: RevokedCredentials = RevokedCredentials(), logger: Logger
    ) {
        self.backend = backend
        self.revoked = revoked
        self.apiKeyCacheTTL = apiKeyCacheTTL
        // Failed credentials per client address (`RAHAT_RATE_LIMIT_AUTH_FAILURES`).
        self.failures = FailureThrottle(
            limiter: limiter, limit: failureLimit, keyPrefix: "authfail:ip:",
            warning: "failed credentials over budget; refusing unverified ones from this address", logger: logger)
        verifier = AccessTokenVerifier(logger: logger) {
            let set = try await backend.auth.getSigningKeys(Rahat_Auth_V1_GetSigningKeysRequest())
            return set.keys.map {
                PublishedSigningKey(keyID: $0.keyID, algorithm: $0.algorithm, publicKeyPEM: $0.publicKeyPem)
            }
        }
    }

    /// The caller, or `unauthenticated` when the request carries no usable credential; a failure
    /// is charged to `clientIP`.
    func authenticate(
        _ headers: HTTPFields, clientIP: String? = GatewayRequest.current?.clientIP
    ) async throws
        -> RequestIdentity
    {
        do {
            let identity = try await identity(from: headers, clientIP: clientIP)
            guard !revoked.refuses(identity.principal) else {
                if let key = identity.principal.apiKeyID { forget(apiKey: key) }
                throw ServiceError(
                    .unauthenticated, reason: "auth.revoked",
                    message:
                        "These credentials were revoked (signed out, key revoked, or account changed); sign in again.")
            }
            return identity
        } catch let error as ServiceError where error.kind == .unauthenticated {
            // No credential at all costs nothing to refuse: a browser before sign-in is no guesser.
            if error.reason != "auth.missing_credentials" { await failures.charge(clientIP) }
            throw error
        } catch let error as RPCError where error.code == .unauthenticated {
            await failures.charge(clientIP)
            throw error
        }
    }

    /// Drops a revoked key's cached answers, so that memory holds no identity it must refuse.
    private func forget(apiKey id: UUID) {
        cache.withLock { cache in cache = cache.filter { $0.value.identity.principal.apiKeyID != id } }
    }

    private func identity(from headers: HTTPFields, clientIP: String?) async throws -> RequestIdentity {
        if let apiKey = headers[.apiKey] {
            return try await identity(forApiKey: apiKey, clientIP: clientIP)
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
        let credential = parts.count == 2 ? parts[1].trimmingOptionalWhitespace() : ""
        switch scheme {
        case "bearer" where !credential.isEmpty:
            let principal = try await verifier.verify(credential)
            // Service tokens are for calls between services; at the public edge one is stolen.
            guard principal.method != .service else {
                throw ServiceError(
                    .unauthenticated, reason: "auth.service_token",
                    message: "Service credentials are not accepted here; sign in as a user or use an API key.")
            }
            return RequestIdentity(principal: principal, forwardedAuthorization: "Bearer \(credential)")
        case "apikey" where !credential.isEmpty:
            return try await identity(forApiKey: credential, clientIP: clientIP)
        default:
            throw ServiceError(
                .unauthenticated,
                reason: "auth.unsupported_scheme",
                message: "The Authorization header must use the Bearer or ApiKey scheme."
            )
        }
    }

    private func identity(forApiKey key: String, clientIP: String?) async throws -> RequestIdentity {
        // What cannot be a key is refused here, before any budget: it costs the auth service nothing.
        guard ApiKeyShape.isWellFormed(key) else { throw Self.invalidKey }
        let digest = SHA256.hash(data: Data(key.utf8)).hexString
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[digest] }), cached.validUntil > now {
            return cached.identity
        }
        if let refusedUntil = refusedKeys.withLock({ $0[digest] }), refusedUntil > now {
            throw Self.invalidKey
        }
        if let seconds = failures.retryAfter(clientIP) {
            throw ServiceError(
                .resourceExhausted, reason: "auth.too_many_failures",
                message: "Too many failed credentials from your address; try again in \(seconds) s.",
                retryAfterSeconds: seconds)
        }
        let verified: Rahat_Auth_V1_VerifiedApiKey
        do {
            verified = try await backend.auth.verifyApiKey(
                .with { $0.key = key },
                metadata: GatewayCall.metadata(authorization: nil)
            )
        } catch let error as RPCError where error.code == .unauthenticated {
            refusedKeys.withLock { refused in
                refused.set(now + Self.refusedKeyTTL, for: digest, capacity: Self.maxCachedKeys) { $0 <= now }
            }
            throw error
        }
        let principal = try await verifier.verify(verified.accessToken)
        let identity = RequestIdentity(principal: principal, forwardedAuthorization: "Bearer \(verified.accessToken)")
        // Never cache past the minted token's own expiry (less a margin for the services' clocks).
        let tokenLifetime = Duration.seconds(max(0, verified.expiresInSeconds - 10))
        let validUntil = now + min(apiKeyCacheTTL, tokenLifetime)
        cache.withLock { cache in
            cache.set(
                CachedKey(identity: identity, validUntil: validUntil), for: digest, capacity: Self.maxCachedKeys
            ) { $0.validUntil <= now }
        }
        return identity
    }
}

extension GatewayAuthenticator {
    /// How a key the auth service refused is answered again, without asking it.
    static let invalidKey = ServiceError(
        .unauthenticated, reason: "auth.invalid_api_key", message: "The API key is not valid.")
}

/// Metadata for calls the gateway makes on behalf of the current request: with `authorization`
/// for an authenticated caller (``APIHandler/asCaller``), without for the public operations.
enum GatewayCall {
    static func metadata(authorization: String?) -> Metadata {
        let edge = GatewayRequest.current
        return IncomingCall(
            authorization: authorization, clientIP: edge?.clientIP, requestID: edge?.requestID,
            readsPrimary: edge?.readsPrimary ?? false
        ).metadata
    }
}

extension Substring {
    /// Without the spaces and tabs HTTP allows around a field's value (RFC 9110's OWS). Foundation's
    /// `trimmingCharacters` goes through `NSString`, on every request.
    fileprivate func trimmingOptionalWhitespace() -> String {
        func isWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = utf8.firstIndex(where: { !isWhitespace($0) }),
            let last = utf8.lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
