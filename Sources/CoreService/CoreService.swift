public import Foundation
public import GRPCCore
public import Logging
public import Persistence
public import ServerKit

/// Settings of the core service.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `DATABASE_URL` | `<data dir>/core.sqlite` | PostgreSQL URL; the service uses schema `core` |
public struct CoreServiceConfiguration: Sendable, Equatable {
    public var database: ServiceDatabaseConfiguration

    public init(database: ServiceDatabaseConfiguration) {
        self.database = database
    }

    public init(from source: inout ConfigurationSource, dataDirectory: String) {
        self.init(database: ServiceDatabaseConfiguration(from: &source, service: "core", dataDirectory: dataDirectory))
    }
}

/// The core service (rahat-core), assembled: its gRPC services over its own database.
public struct CoreService: Sendable {
    let domain: CoreDomain

    /// Assembles the service. `verifier` checks callers' access tokens with the auth service's
    /// published keys; the composition root decides how those keys are fetched.
    public init(
        configuration: CoreServiceConfiguration,
        database: ServiceDatabase,
        verifier: AccessTokenVerifier,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        domain = CoreDomain(database: database, verifier: verifier, logger: logger, now: now)
    }

    /// The schema this service owns on PostgreSQL.
    public static let schema = "core"

    /// The gRPC services to register on a server.
    public var rpcServices: [any RegistrableRPCService] {
        [ProjectRPC(domain: domain)]
    }

    /// Fully-qualified gRPC service names, for the health service.
    public static let rpcServiceNames = ["rahat.core.v1.ProjectService"]

    /// Applies pending migrations.
    public func migrate() async throws {
        try await domain.database.migrate(CoreMigrations.all)
    }

    /// What must be up for this service to take traffic.
    public var readinessChecks: [ReadinessCheck] {
        let database = domain.database
        return [ReadinessCheck(name: "core-database") { try await database.ping() }]
    }
}
