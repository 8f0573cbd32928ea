import FluentKit
import SQLKit

/// One file is imported once at a time: two uploads of the same file finishing together both pass
/// the check before either commits, so the database decides.
struct UniqueActiveImport: AsyncMigration {
    var name: String { "core.0008_UniqueActiveImport" }

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw(
            """
            CREATE UNIQUE INDEX imports_active_sha256_idx ON \(ident: ImportRow.schema) (sha256)
            WHERE status IN ('queued', 'running')
            """
        ).run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("DROP INDEX imports_active_sha256_idx").run()
    }
}
