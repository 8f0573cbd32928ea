import Crypto
import FluentKit
import Foundation
import JWTKit
import Logging
import ServerKit
import SharedModels
import TokenVerification

/// The keys that sign access tokens (ES256).
///
/// With `RAHAT_JWT_PRIVATE_KEY` configured, that key signs and is the one published. Otherwise the
/// keys live in the `sealed_signing_keys` table, sealed under `RAHAT_JWT_SEAL_KEY`: generated on
/// first start and shared by every replica.
/// The newest key signs; every key not past its `retire_at` is published, so tokens signed before
/// a rotation keep verifying until they expire.
actor SigningKeys {
    private let database: any Database
    private let configuredKey: ES256PrivateKey?
    private let seal: SigningKeySeal?
    private let logger: Logger
    private var signer: (kid: String, keys: JWTKeyCollection, loadedAt: ContinuousClock.Instant)?
    /// How long a process keeps signing with the key it loaded before looking for a newer one,
    /// so a rotation made by another process (`rahat auth rotate-signing-key`) is picked up.
    private let signerReloadInterval: Duration = .seconds(60)

    init(database: any Database, configuredPrivateKeyPEM: String?, seal: SigningKeySeal?, logger: Logger) throws {
        self.database = database
        self.logger = logger
        self.seal = seal
        if let pem = configuredPrivateKeyPEM {
            configuredKey = try ES256PrivateKey(pem: pem)
        } else {
            guard seal != nil else {
                throw ConfigurationError(problems: [
                    "RAHAT_JWT_PRIVATE_KEY or RAHAT_JWT_SEAL_KEY: one is required to sign access tokens"
                ])
            }
            configuredKey = nil
        }
    }

    /// A stable key id: the start of the SHA-256 of the public key.
    static func keyID(for key: ES256PrivateKey) -> String {
        let digest = SHA256.hash(data: Data(key.publicKey.pemRepresentation.utf8))
        return digest.prefix(12).hexString
    }

    /// Signs claims with the current key.
    func sign(_ claims: AccessTokenClaims) async throws -> String {
        let (kid, keys) = try await currentSigner()
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    /// The public half of every key that may have signed a still-valid token.
    func published() async throws -> [PublishedSigningKey] {
        if let configuredKey {
            return [
                PublishedSigningKey(
                    keyID: Self.keyID(for: configuredKey),
                    algorithm: "ES256",
                    publicKeyPEM: configuredKey.publicKey.pemRepresentation
                )
            ]
        }
        _ = try await currentSigner()
        return try await liveKeys().map { stored in
            let key = try privateKey(of: stored)
            return PublishedSigningKey(
                keyID: stored.kid, algorithm: stored.algorithm, publicKeyPEM: key.publicKey.pemRepresentation)
        }
    }

    /// Adds a new signing key and schedules the others to stop being published once every token
    /// they signed has expired. `lifetime` is the longest token lifetime; other processes may keep
    /// signing with an old key until they reload, so that time and some clock skew are added.
    func rotate(retiringOthersAfter lifetime: Duration) async throws -> String {
        guard configuredKey == nil else {
            throw ServiceError(
                .failedPrecondition,
                reason: "auth.signing_key_configured",
                message: "The signing key comes from RAHAT_JWT_PRIVATE_KEY; rotate it there."
            )
        }
        let grace = lifetime + signerReloadInterval + .seconds(60)
        let retireAt = Date().addingTimeInterval(TimeInterval(grace.components.seconds))
        for stored in try await liveKeys() where stored.retireAt == nil {
            try await SigningKeyStore.retire(stored.kid, at: retireAt, on: database)
        }
        let kid = try await insertNewKey()
        signer = nil
        return kid
    }

    private func currentSigner() async throws -> (kid: String, keys: JWTKeyCollection) {
        if let signer, ContinuousClock.now - signer.loadedAt < signerReloadInterval {
            return (signer.kid, signer.keys)
        }
        let key: ES256PrivateKey
        let kid: String
        if let configuredKey {
            key = configuredKey
            kid = Self.keyID(for: configuredKey)
        } else {
            let newest = try await liveKeys().filter { $0.retireAt == nil }.max { $0.createdAt < $1.createdAt }
            if let newest {
                key = try privateKey(of: newest)
                kid = newest.kid
            } else {
                kid = try await insertNewKey()
                return try await currentSigner()
            }
        }
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        signer = (kid, keys, ContinuousClock.now)
        return (kid, keys)
    }

    /// The stored keys not past their `retire_at`.
    private func liveKeys() async throws -> [SigningKeyStore.SealedKey] {
        let now = Date()
        return try await SigningKeyStore.keys(on: database).filter { stored in
            stored.retireAt.map { $0 > now } ?? true
        }
    }

    private func privateKey(of stored: SigningKeyStore.SealedKey) throws -> ES256PrivateKey {
        guard let seal else {
            throw ConfigurationError(problems: ["RAHAT_JWT_SEAL_KEY: required to read signing keys"])
        }
        return try ES256PrivateKey(pem: seal.open(stored.sealedKey, kid: stored.kid))
    }

    private func insertNewKey() async throws -> String {
        guard let seal else {
            throw ConfigurationError(problems: ["RAHAT_JWT_SEAL_KEY: required to store signing keys"])
        }
        let key = ES256PrivateKey()
        let kid = Self.keyID(for: key)
        try await SigningKeyStore.insert(
            kid: kid, algorithm: "ES256", sealedKey: try seal.seal(key.pemRepresentation, kid: kid), at: Date(),
            on: database)
        logger.notice("generated a new access-token signing key", metadata: ["kid": "\(kid)"])
        return kid
    }
}
