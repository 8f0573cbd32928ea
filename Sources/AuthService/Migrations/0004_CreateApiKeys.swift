import FluentKit
import SQLKit

struct CreateApiKeys: AsyncMigration {
    var name: String { "auth.0004_CreateApiKeys" }

    func prepare(on database: any Database) async throws {
        try await database.schema("api_keys")
            .field("id", .uuid, .identifier(auto: false))
            .field("owner_id", .uuid, .required, .references("users", "id", onDelete: .cascade))
            .field("name", .string, .required)
            .field("prefix", .string, .required)
            .field("secret_hash", .string, .required)
            .field("permissions", .array(of: .string), .required)
            .field("project_id", .string)
            .field("expires_at", .datetime)
            .field("last_used_at", .datetime)
            .field("revoked_at", .datetime)
            .field("created_at", .datetime, .required)
            .unique(on: "prefix")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "api_keys_owner_id_idx").on("api_keys").column("owner_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("api_keys").delete()
    }
}
