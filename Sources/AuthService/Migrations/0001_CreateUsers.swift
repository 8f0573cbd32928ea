import FluentKit
import SQLKit

struct CreateUsers: AsyncMigration {
    var name: String { "auth.0001_CreateUsers" }

    func prepare(on database: any Database) async throws {
        try await database.schema("users")
            .field("id", .uuid, .identifier(auto: false))
            .field("name", .string, .required)
            .field("email", .string, .required)
            .field("phone", .string)
            .field("status", .string, .required)
            .field("password_hash", .string)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "email")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("users").delete()
    }
}
