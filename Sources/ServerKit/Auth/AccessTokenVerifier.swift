import Foundation
import JWTKit
public import Logging
import SharedModels

/// A public key that verifies access tokens, as the auth service publishes it.
public struct PublishedSigningKey: Sendable, Equatable {
    public var keyID: String
    public var algorithm: String
    public var publicKeyPEM: String

    public init(keyID: String, algorithm: String, publicKeyPEM: String) {
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
public actor AccessTokenVerifier {
    public typealias Fetch = @Sendable () async throws -> [PublishedSigningKey]

    private let fetch: Fetch
    private let refreshInterval: Duration
    private let minimumRefetchInterval: Duration
    private let logger: Logger
    private var keys: JWTKeyCollection?
    private var knownKeyIDs: Set<String> = []
    private var fetchedAt: ContinuousClock.Instant?
    private var inFlight: Task<Void, any Error>?
    private let clock = ContinuousClock()

    public init(
        refreshInterval: Duration = .seconds(300),
        minimumRefetchInterval: Duration = .seconds(1),
        logger: Logger = Logger(label: "rahat.auth.verifier"),
        fetch: @escaping Fetch
    ) {
        self.fetch = fetch
        self.refreshInterval = refreshInterval
        self.minimumRefetchInterval = minimumRefetchInterval
        self.logger = logger
    }

    /// Verifies a bearer token and returns its principal; throws `unauthenticated` on any failure.
    public func verify(_ token: String) async throws(ServiceError) -> Principal {
        let keyID = Self.keyID(of: token)
        let collection = try await currentKeys(needing: keyID)
        let claims: AccessTokenClaims
        do {
            claims = try await collection.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw Self.invalidToken
        }
        guard let userID = UUID(uuidString: claims.sub.value) else { throw Self.invalidToken }
        return Principal(
            userID: userID,
            permissions: PermissionSet(parsing: claims.perms),
            method: claims.amr == "api_key" ? .apiKey : .password,
            sessionID: claims.sid.flatMap(UUID.init(uuidString:)),
            apiKeyID: claims.akid.flatMap(UUID.init(uuidString:)),
            expiresAt: claims.exp.value
        )
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
    }

    private static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".", maxSplits: 1).first else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        guard let data = Data(base64Encoded: base64),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["kid"] as? String
    }
}
