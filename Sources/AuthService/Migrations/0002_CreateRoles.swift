import FluentKit
import Foundation
import SQLKit

struct CreateRoles: AsyncMigration {
    var name: String { "auth.0002_CreateRoles" }

    func prepare(on database: any Database) async throws {
        try await database.schema("roles")
            .field("name", .string, .identifier(auto: false))
            .field("description", .string)
            .field("built_in", .bool, .required)
            .field("permissions", .array(of: .string), .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("user_roles")
            .field("id", .uuid, .identifier(auto: false))
            .field("user_id", .uuid, .required, .references("users", "id", onDelete: .cascade))
            .field("role_name", .string, .required, .references("roles", "name"))
            .field("project_id", .string)
            .field("created_at", .datetime, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "user_roles_user_id_idx").on("user_roles").column("user_id").run()
        try await sql.create(index: "user_roles_role_name_idx").on("user_roles").column("role_name").run()
        let now = Date()
        for role in BuiltInRoles.all {
            let row = RoleRow()
            row.id = role.name
            row.roleDescription = role.description
            row.builtIn = true
            row.permissions = role.permissions
            row.createdAt = now
            try await row.create(on: database)
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("user_roles").delete()
        try await database.schema("roles").delete()
    }
}
