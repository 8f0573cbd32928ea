import FluentKit
import SQLKit

/// Changes of vendors' payout accounts waiting for (or decided by) a second person: an account
/// takes effect only once someone other than who asked for it approves it. One pending change per
/// vendor at most; a newer request supersedes it.
struct CreatePayoutChanges: AsyncMigration {
    var name: String { "core.0014_CreatePayoutChanges" }

    func prepare(on database: any Database) async throws {
        try await database.schema("vendor_payout_changes")
            .field("id", .uuid, .identifier(auto: false))
            .field("vendor_id", .uuid, .required)
            .field("account", .string, .required)
            .field("status", .string, .required)
            .field("requested_by", .uuid, .required)
            .field("requested_at", .datetime, .required)
            .field("decided_by", .uuid)
            .field("decided_at", .datetime)
            .field("note", .string)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw(
            """
            CREATE UNIQUE INDEX vendor_payout_changes_pending_idx ON vendor_payout_changes (vendor_id)
            WHERE status = 'pending'
            """
        ).run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("vendor_payout_changes").delete()
    }
}
