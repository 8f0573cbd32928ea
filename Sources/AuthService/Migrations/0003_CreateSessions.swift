import FluentKit
import SQLKit

struct CreateSessions: AsyncMigration {
    var name: String { "auth.0003_CreateSessions" }

    func prepare(on database: any Database) async throws {
        try await database.schema("refresh_tokens")
            .field("id", .uuid, .identifier(auto: false))
            .field("family_id", .uuid, .required)
            .field("user_id", .uuid, .required, .references("users", "id", onDelete: .cascade))
            .field("token_hash", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("created_at", .datetime, .required)
            .field("used_at", .datetime)
            .field("revoked_at", .datetime)
            .unique(on: "token_hash")
            .create()
        try await database.schema("login_attempts")
            .field("id", .uuid, .identifier(auto: false))
            .field("email", .string, .required)
            .field("ip", .string)
            .field("succeeded", .bool, .required)
            .field("attempted_at", .datetime, .required)
            .create()
        try await database.schema("signing_keys")
            .field("kid", .string, .identifier(auto: false))
            .field("algorithm", .string, .required)
            .field("private_key_pem", .string, .required)
            .field("created_at", .datetime, .required)
            .field("retire_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "refresh_tokens_family_id_idx").on("refresh_tokens").column("family_id").run()
        try await sql.create(index: "refresh_tokens_user_id_idx").on("refresh_tokens").column("user_id").run()
        try await sql.create(index: "login_attempts_ip_idx").on("login_attempts").column("ip").column("attempted_at")
            .run()
        try await sql.create(index: "login_attempts_email_idx").on("login_attempts").column("email").column(
            "attempted_at"
        )
        .run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("signing_keys").delete()
        try await database.schema("login_attempts").delete()
        try await database.schema("refresh_tokens").delete()
    }
}
