import FluentKit
import SQLKit

/// What was revoked and when, kept until every access token it ends has expired: the gateways
/// read it every half second, so an ended session, a revoked key or a disabled user is refused
/// everywhere at once rather than when its last token runs out.
struct CreateRevocations: AsyncMigration {
    var name: String { "auth.0005_CreateRevocations" }

    func prepare(on database: any Database) async throws {
        try await database.schema("revocations")
            .field("id", .uuid, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("subject", .uuid, .required)
            .field("revoked_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "revocations_revoked_at_idx").on("revocations").column("revoked_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("revocations").delete()
    }
}
