package import Foundation
package import GRPCCore
package import Logging
package import Persistence
package import ServerKit
package import TokenVerification

/// Settings of the ledger service.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `DATABASE_URL` | `<data dir>/ledger.sqlite` | PostgreSQL URL; the service uses schema `ledger` |
/// | `RAHAT_LEDGER_VERIFY_REUSE_SECONDS` | 60 | how long a finished walk of the hash chain answers `VerifyChain` again; 0 reuses no finished walk (callers during a walk still share it) |
package struct LedgerServiceConfiguration: Sendable, Equatable {
    package var database: ServiceDatabaseConfiguration
    /// How long a finished chain walk is answered again: a walk reads every transfer.
    package var verifyReuse: Duration

    package init(database: ServiceDatabaseConfiguration, verifyReuse: Duration = .seconds(60)) {
        self.database = database
        self.verifyReuse = verifyReuse
    }

    package init(from source: inout ConfigurationSource, dataDirectory: String) {
        self.init(
            database: ServiceDatabaseConfiguration(from: &source, service: "ledger", dataDirectory: dataDirectory),
            verifyReuse: .seconds(source.int("RAHAT_LEDGER_VERIFY_REUSE_SECONDS", default: 60, in: 0...86_400)))
    }
}

/// The ledger service, assembled: its gRPC service over its own database. The only writer of money.
package struct LedgerService: Sendable {
    let domain: LedgerDomain

    /// Assembles the service. `verifier` checks callers' access tokens with the auth service's
    /// published keys; a finished chain walk answers again for `verifyReuse`. Does not migrate:
    /// call ``migrate()`` or run `rahat migrate` first.
    package init(
        database: ServiceDatabase,
        verifier: AccessTokenVerifier,
        verifyReuse: Duration = .zero,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        domain = LedgerDomain(
            database: database, verifier: verifier, verifyReuse: verifyReuse, logger: logger, now: now)
    }

    /// The schema this service owns on PostgreSQL.
    package static let schema = "ledger"

    /// The gRPC services to register on a server.
    package var rpcServices: [any RegistrableRPCService] { [LedgerRPC(domain: domain)] }

    /// Fully-qualified gRPC service names, for the health service.
    package static let rpcServiceNames = ["rahat.ledger.v1.LedgerService"]

    /// Applies pending migrations.
    package func migrate() async throws {
        try await domain.database.migrate(LedgerMigrations.all)
    }

    /// Walks the hash chain, for `rahat ledger verify`: the operator holds the database, so no
    /// caller is checked.
    package static func verifyChain(on database: ServiceDatabase) async throws -> ChainVerification {
        try await LedgerDomain.verifyChain(on: database)
    }

    /// What must be up for this service to take traffic.
    package var readinessChecks: [ReadinessCheck] {
        let database = domain.database
        return [ReadinessCheck(name: "ledger-database") { try await database.ping() }]
    }
}
