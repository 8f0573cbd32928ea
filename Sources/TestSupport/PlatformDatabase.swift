import AuthService
import C2CService
import CoreService
import LedgerService
package import TestInfrastructure

extension SchemaMigrations {
    /// Every service's schema and migrations: what the platform runs on.
    package static let platform: [SchemaMigrations] = [
        SchemaMigrations(AuthService.schema, AuthMigrations.all),
        SchemaMigrations(CoreService.schema, CoreMigrations.all),
        SchemaMigrations(LedgerService.schema, LedgerMigrations.all),
        SchemaMigrations(C2CService.schema, C2CMigrations.all),
    ]
}

extension TestDatabase {
    /// Runs `body` with a fresh database for the whole platform, removing it afterwards: on
    /// PostgreSQL every service's schema is migrated already, unless `empty` (for tests of
    /// migrating itself).
    package static func with<T: Sendable>(
        _ engine: DatabaseEngine, empty: Bool = false, _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        try await with(engine, migrating: empty ? [] : SchemaMigrations.platform, body)
    }
}
