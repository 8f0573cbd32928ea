package import FluentKit
import Foundation
package import GRPCCore
package import Logging
package import Persistence
package import ServerKit
package import TokenVerification

/// The auth service, assembled: its gRPC services over one database, plus the start-up and
/// operator actions the `rahat` command exposes.
package struct AuthService: Sendable {
    let domain: AuthDomain

    /// Assembles the service over an open database. Does not migrate: call ``migrate()`` or run
    /// `rahat migrate` first.
    package init(
        configuration: AuthServiceConfiguration,
        database: ServiceDatabase,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        let signingKeys = try SigningKeys(
            database: database.db,
            configuredPrivateKeyPEM: configuration.signingKeyPEM,
            seal: configuration.signingKeySeal,
            logger: logger
        )
        let verifier = AccessTokenVerifier(refreshInterval: .seconds(60), logger: logger) {
            try await signingKeys.published()
        }
        domain = AuthDomain(
            database: database,
            hasher: PasswordHasher(cost: UInt8(configuration.bcryptCost)),
            signingKeys: signingKeys,
            verifier: verifier,
            configuration: configuration,
            serviceCredentialFailures: FailureThrottle(
                limiter: InMemoryRateLimiter(), limit: configuration.serviceCredentialFailures, keyPrefix: "",
                warning: "wrong service credentials over budget; refusing service tokens to this address",
                logger: logger),
            logger: logger,
            now: now
        )
    }

    /// The schema this service owns on PostgreSQL.
    package static let schema = "auth"

    /// The gRPC services to register on a server.
    package var rpcServices: [any RegistrableRPCService] {
        [AuthRPC(domain: domain), UserRPC(domain: domain), RoleRPC(domain: domain), ApiKeyRPC(domain: domain)]
    }

    /// Fully-qualified gRPC service names, for the health service.
    package static let rpcServiceNames = [
        "rahat.auth.v1.AuthService", "rahat.auth.v1.UserService", "rahat.auth.v1.RoleService",
        "rahat.auth.v1.ApiKeyService",
    ]

    /// Applies pending migrations.
    package func migrate() async throws {
        try await domain.database.migrate(AuthMigrations.all)
    }

    /// Creates the first admin when none exists; returns its email and, if it was generated, the password.
    package func bootstrapAdmin() async throws -> (email: String, generatedPassword: String?)? {
        try await domain.bootstrapAdmin()
    }

    /// The public keys that verify access tokens, as `GetSigningKeys` publishes them.
    package func publishedSigningKeys() async throws -> [PublishedSigningKey] {
        try await domain.signingKeys.published()
    }

    /// Starts signing with a new key; the old ones stay published until their tokens expire.
    package func rotateSigningKey() async throws -> String {
        let configuration = domain.configuration
        return try await domain.signingKeys.rotate(
            retiringOthersAfter: max(configuration.accessTokenTTL, configuration.apiKeyTokenTTL)
        )
    }

    /// What must be up for this service to take traffic.
    package var readinessChecks: [ReadinessCheck] {
        let database = domain.database
        return [ReadinessCheck(name: "auth-database") { try await database.ping() }]
    }
}
