import JWTKit
package import Persistence
package import ServerKit

/// Settings of the auth service.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `DATABASE_URL` | `<data dir>/auth.sqlite` | PostgreSQL URL; the service uses schema `auth` |
/// | `RAHAT_JWT_PRIVATE_KEY` / `_FILE` | generated, stored sealed in the database | ES256 private key (PEM) |
/// | `RAHAT_JWT_SEAL_KEY` / `_FILE` | generated into `<data dir>/signing-key-seal` (embedded only) | base64 of 32 bytes: seals the signing keys the database keeps |
/// | `RAHAT_ACCESS_TOKEN_TTL` | 900 | access-token lifetime, seconds |
/// | `RAHAT_REFRESH_TOKEN_TTL` | 2592000 | refresh-token lifetime, seconds |
/// | `RAHAT_SESSION_MAX_SECONDS` | 7776000 (90 days) | how long refreshing may keep one sign-in alive |
/// | `RAHAT_API_KEY_TOKEN_TTL` | 300 | lifetime of the token minted for a verified API key, seconds |
/// | `RAHAT_BCRYPT_COST` | 12 | bcrypt work factor (10–31) |
/// | `RAHAT_ADMIN_EMAIL` | `admin@rahat.local` | first admin, created when no admin exists |
/// | `RAHAT_ADMIN_PASSWORD` / `_FILE` | generated into `<data dir>/initial-admin-password` | the first admin's password |
/// | `RAHAT_SERVICE_SECRET` / `_FILE` | generated into `<data dir>/service-secret` (embedded only) | shared by the internal processes; exchanged for service tokens (at least 32 characters) |
/// | `RAHAT_SERVICE_TOKEN_FAILURES` | `10/1m` | wrong service credentials per caller address; over it, the address is refused service tokens, whatever it presents, until the budget has room again (one try per period ÷ N); `off` |
package struct AuthServiceConfiguration: Sendable, Equatable {
    package var database: ServiceDatabaseConfiguration
    package var signingKeyPEM: String?
    /// Seals the signing keys kept in the database; needed unless ``signingKeyPEM`` is set.
    package var signingKeySeal: SigningKeySeal?
    package var accessTokenTTL: Duration
    package var refreshTokenTTL: Duration
    /// How long a session may be kept alive by refreshing, from its sign-in: then a password again.
    package var sessionMaxLifetime: Duration
    package var apiKeyTokenTTL: Duration
    package var bcryptCost: Int
    package var adminEmail: String
    package var adminPassword: String?
    /// What internal services present for a token of their own; `nil` issues none.
    package var serviceSecret: String?
    /// Wrong service credentials an address may present before it is refused for a while; `nil`: no limit.
    package var serviceCredentialFailures: RateLimit? = Self.defaultServiceCredentialFailures

    /// The secret is long and random, so this is not what keeps it from being guessed: it keeps a
    /// caller that keeps trying (a misconfigured process, someone probing the internal network)
    /// from costing a digest per call, and makes it visible in the log.
    package static let defaultServiceCredentialFailures = RateLimit(10, per: .seconds(60))

    package init(
        database: ServiceDatabaseConfiguration,
        signingKeyPEM: String? = nil,
        signingKeySeal: SigningKeySeal? = nil,
        accessTokenTTL: Duration = .seconds(900),
        refreshTokenTTL: Duration = .seconds(30 * 24 * 3600),
        sessionMaxLifetime: Duration = .seconds(90 * 24 * 3600),
        apiKeyTokenTTL: Duration = .seconds(300),
        bcryptCost: Int = 12,
        adminEmail: String = "admin@rahat.local",
        adminPassword: String? = nil,
        serviceSecret: String? = nil
    ) {
        self.database = database
        self.signingKeyPEM = signingKeyPEM
        self.signingKeySeal = signingKeySeal
        self.accessTokenTTL = accessTokenTTL
        self.refreshTokenTTL = refreshTokenTTL
        self.sessionMaxLifetime = sessionMaxLifetime
        self.apiKeyTokenTTL = apiKeyTokenTTL
        self.bcryptCost = bcryptCost
        self.adminEmail = adminEmail
        self.adminPassword = adminPassword
        self.serviceSecret = serviceSecret
    }

    package init(from source: inout ConfigurationSource, dataDirectory: String) {
        self.init(
            database: ServiceDatabaseConfiguration(from: &source, service: "auth", dataDirectory: dataDirectory),
            signingKeyPEM: source.secret("RAHAT_JWT_PRIVATE_KEY"),
            signingKeySeal: Self.seal(from: &source),
            accessTokenTTL: .seconds(source.int("RAHAT_ACCESS_TOKEN_TTL", default: 900, in: 60...86_400)),
            refreshTokenTTL: .seconds(
                source.int("RAHAT_REFRESH_TOKEN_TTL", default: 30 * 24 * 3600, in: 300...(365 * 24 * 3600))
            ),
            sessionMaxLifetime: .seconds(
                source.int("RAHAT_SESSION_MAX_SECONDS", default: 90 * 24 * 3600, in: 300...(365 * 24 * 3600))
            ),
            apiKeyTokenTTL: .seconds(source.int("RAHAT_API_KEY_TOKEN_TTL", default: 300, in: 30...3600)),
            // Below 10 a stolen hash falls to a guesser in hours; tests set lower costs in code, not here.
            bcryptCost: source.int("RAHAT_BCRYPT_COST", default: 12, in: 10...31),
            adminEmail: source.string("RAHAT_ADMIN_EMAIL", default: "admin@rahat.local"),
            adminPassword: source.secret("RAHAT_ADMIN_PASSWORD"),
            serviceSecret: ServiceSecret.read(from: &source)
        )
        serviceCredentialFailures = source.rateLimit(
            "RAHAT_SERVICE_TOKEN_FAILURES", default: Self.defaultServiceCredentialFailures)
        if let pem = signingKeyPEM, (try? ES256PrivateKey(pem: pem)) == nil {
            source.report("RAHAT_JWT_PRIVATE_KEY: not a PEM-encoded P-256 (ES256) private key")
        }
        var violations: [FieldViolation] = []
        let email = InputValidation.email(adminEmail, field: "RAHAT_ADMIN_EMAIL", into: &violations)
        if let adminPassword {
            violations += PasswordPolicy.check(adminPassword, email: email, field: "RAHAT_ADMIN_PASSWORD")
        }
        for violation in violations { source.report("\(violation.field): \(violation.reason)") }
    }

    private static func seal(from source: inout ConfigurationSource) -> SigningKeySeal? {
        guard let text = source.secret("RAHAT_JWT_SEAL_KEY") else { return nil }
        guard let seal = SigningKeySeal(base64: text) else {
            source.report("RAHAT_JWT_SEAL_KEY: not the base64 of 32 bytes (make one with: openssl rand -base64 32)")
            return nil
        }
        return seal
    }
}
