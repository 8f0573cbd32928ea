import FluentKit
import SQLKit

struct CreateProjects: AsyncMigration {
    var name: String { "core.0002_CreateProjects" }

    func prepare(on database: any Database) async throws {
        try await database.schema(ProjectRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("name", .string, .required)
            .field("description", .string)
            .field("type", .string, .required)
            .field("status", .string, .required)
            .field("asset", .string, .required)
            .field("asset_scale", .int, .required)
            .field("settings", .string, .required)
            .field("default_country", .string)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("activated_at", .datetime)
            .field("closed_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "projects_status_idx").on(ProjectRow.schema).column("status").column("id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ProjectRow.schema).delete()
    }
}
