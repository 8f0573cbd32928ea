import Foundation
import JWTKit
package import Logging
package import ServerKit
import SharedModels
import Synchronization

/// A public key that verifies access tokens, as the auth service publishes it.
package struct PublishedSigningKey: Sendable, Equatable {
    package var keyID: String
    package var algorithm: String
    package var publicKeyPEM: String

    package init(keyID: String, algorithm: String, publicKeyPEM: String) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.publicKeyPEM = publicKeyPEM
    }
}

/// Verifies access tokens locally with the auth service's published public keys.
///
/// Keys are fetched lazily, refreshed every `refreshInterval`, and re-fetched early when a token
/// names a key id this verifier has not seen (a rotation), at most once per `minimumRefetchInterval`
/// and never twice at once, so a flood of forged key ids cannot turn into a flood of calls to the
/// auth service.
///
/// A token that verified is remembered until it expires, so a client that presents the same token
/// on every request pays for the signature check (ECDSA and two JSON parses, most of what
/// authenticating a request costs) once. A remembered token stops being accepted as soon as the
/// key that signed it is no longer published.
package actor AccessTokenVerifier {
    package typealias Fetch = @Sendable () async throws -> [PublishedSigningKey]

    private let fetch: Fetch
    private let refreshInterval: Duration
    private let minimumRefetchInterval: Duration
    private let logger: Logger
    private var keys: JWTKeyCollection?
    private var knownKeyIDs: Set<String> = []
    private var fetchedAt: ContinuousClock.Instant?
    private var inFlight: Task<Void, any Error>?
    private let clock = ContinuousClock()
    private nonisolated let verified: VerifiedTokens

    package init(
        refreshInterval: Duration = .seconds(300),
        minimumRefetchInterval: Duration = .seconds(1),
        rememberedTokens: Int = 10_000,
        logger: Logger = Logger(label: "rahat.auth.verifier"),
        fetch: @escaping Fetch
    ) {
        self.verified = VerifiedTokens(capacity: rememberedTokens)
        self.fetch = fetch
        self.refreshInterval = refreshInterval
        self.minimumRefetchInterval = minimumRefetchInterval
        self.logger = logger
    }

    /// Verifies a bearer token and returns its principal; throws `unauthenticated` on any failure.
    package nonisolated func verify(_ token: String) async throws(ServiceError) -> Principal {
        if let principal = verified.principal(for: token, at: Date()) { return principal }
        return try await verifySignature(token)
    }

    private func verifySignature(_ token: String) async throws(ServiceError) -> Principal {
        let keyID = Self.keyID(of: token)
        let collection = try await currentKeys(needing: keyID)
        let claims: AccessTokenClaims
        do {
            claims = try await collection.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw Self.invalidToken
        }
        guard let userID = UUID(uuidString: claims.sub.value) else { throw Self.invalidToken }
        let method: Principal.Method
        switch claims.amr {
        case "api_key": method = .apiKey
        case "svc": method = .service
        default: method = .password
        }
        // A service token names its service, and its subject is that service's fixed id.
        if method == .service {
            guard let service = claims.svc, ServicePrincipal.id(of: service) == userID else { throw Self.invalidToken }
        }
        let principal = Principal(
            userID: userID,
            permissions: PermissionSet(parsing: claims.perms),
            method: method,
            sessionID: claims.sid.flatMap(UUID.init(uuidString:)),
            apiKeyID: claims.akid.flatMap(UUID.init(uuidString:)),
            service: method == .service ? claims.svc : nil,
            expiresAt: claims.exp.value,
            // The token's id is a v7 UUID made as it was issued: to the millisecond, where `iat`
            // says only the second.
            issuedAt: UUID(uuidString: claims.jti.value)?.v7Date ?? claims.iat.value
        )
        // The keys may have been replaced while the signature was checked: remember only what a
        // still-published key signed.
        if let keyID, knownKeyIDs.contains(keyID) {
            verified.remember(token, principal, keyID: keyID)
        }
        return principal
    }

    private static let invalidToken = ServiceError(
        .unauthenticated,
        reason: "auth.invalid_token",
        message: "The access token is invalid or has expired."
    )

    private func currentKeys(needing keyID: String?) async throws(ServiceError) -> JWTKeyCollection {
        let now = clock.now
        let stale = fetchedAt.map { now - $0 > refreshInterval } ?? true
        let unknownKey = keyID.map { !knownKeyIDs.contains($0) } ?? false
        let mayRefetch = fetchedAt.map { now - $0 > minimumRefetchInterval } ?? true
        if keys == nil || stale || (unknownKey && mayRefetch) {
            do {
                try await reload()
            } catch {
                // Keep verifying with the keys we have if the auth service is briefly unreachable.
                logger.warning("could not fetch signing keys", metadata: ["error": "\(error)"])
                if keys == nil {
                    throw ServiceError(
                        .unavailable,
                        reason: "auth.keys_unavailable",
                        message: "Access tokens cannot be verified right now."
                    )
                }
            }
        }
        guard let keys else { throw Self.invalidToken }
        return keys
    }

    /// One fetch at a time: concurrent requests that need fresh keys wait for the same answer.
    private func reload() async throws {
        if let inFlight { return try await inFlight.value }
        let task = Task { try await self.replaceKeys() }
        inFlight = task
        defer { inFlight = nil }
        try await task.value
    }

    private func replaceKeys() async throws {
        let published = try await fetch()
        let collection = JWTKeyCollection()
        var ids: Set<String> = []
        for key in published where key.algorithm == "ES256" {
            do {
                await collection.add(
                    ecdsa: try ES256PublicKey(pem: key.publicKeyPEM), kid: JWKIdentifier(string: key.keyID))
                ids.insert(key.keyID)
            } catch {
                logger.error("ignoring unreadable signing key", metadata: ["kid": "\(key.keyID)"])
            }
        }
        keys = collection
        knownKeyIDs = ids
        fetchedAt = clock.now
        verified.keysReplaced(published: ids, freshUntil: clock.now + refreshInterval)
    }

    private static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".", maxSplits: 1).first else { return nil }
        guard let data = Data(base64URLEncoded: header),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["kid"] as? String
    }
}

/// Verified tokens and their principals, bounded, each until its token expires and only while
/// the published keys they were checked against are current.
private final class VerifiedTokens: Sendable {
    private struct Entry {
        var principal: Principal
        var keyID: String
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// When the keys are due for a refresh; past it, tokens go through the full check, which
        /// refreshes the keys and drops what a withdrawn key signed.
        var freshUntil: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func principal(for token: String, at now: Date) -> Principal? {
        guard capacity > 0 else { return nil }
        let entry = state.withLock { state -> Entry? in
            guard let freshUntil = state.freshUntil, ContinuousClock.now < freshUntil else { return nil }
            return state.entries[token]
        }
        guard let entry, entry.principal.expiresAt > now else { return nil }
        return entry.principal
    }

    func remember(_ token: String, _ principal: Principal, keyID: String) {
        guard capacity > 0 else { return }
        let now = Date()
        state.withLock { state in
            if state.entries.count >= capacity, state.entries[token] == nil {
                state.entries = state.entries.filter { $0.value.principal.expiresAt > now }
                // Still full of live tokens: start over rather than track recency on every read.
                if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            }
            state.entries[token] = Entry(principal: principal, keyID: keyID)
        }
    }

    /// After the keys were fetched: drops tokens signed by keys no longer published.
    func keysReplaced(published keyIDs: Set<String>, freshUntil: ContinuousClock.Instant) {
        state.withLock { state in
            state.entries = state.entries.filter { keyIDs.contains($0.value.keyID) }
            state.freshUntil = freshUntil
        }
    }
}
