import FluentKit
import SQLKit

struct CreateImports: AsyncMigration {
    var name: String { "core.0007_CreateImports" }

    func prepare(on database: any Database) async throws {
        try await database.schema(ImportRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("format", .string, .required)
            .field("status", .string, .required)
            .field("project_id", .uuid)
            .field("group_id", .uuid)
            .field("on_duplicate", .string, .required)
            .field("default_country", .string)
            .field("file_name", .string)
            .field("sha256", .string, .required)
            .field("bytes", .int64, .required)
            .field("rows", .int64, .required)
            .field("created", .int64, .required)
            .field("updated", .int64, .required)
            .field("duplicates", .int64, .required)
            .field("rejected", .int64, .required)
            .field("processed_line", .int64, .required)
            .field("lease_until", .datetime)
            .field("claim_token", .uuid)
            .field("attempts", .int64, .required)
            .field("error", .string)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .create()
        try await database.schema(ImportChunkRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("import_id", .uuid, .required, .references(ImportRow.schema, "id", onDelete: .cascade))
            .field("seq", .int, .required)
            .field("data", .data, .required)
            .unique(on: "import_id", "seq")
            .create()
        try await database.schema(ImportRejectRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("import_id", .uuid, .required, .references(ImportRow.schema, "id", onDelete: .cascade))
            .field("line", .int64, .required)
            .field("column_name", .string, .required)
            .field("reason", .string, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        // The runner claims the oldest queued import; the rejects file reads one import's rows in line order.
        try await sql.create(index: "imports_status_idx").on(ImportRow.schema).column("status").column("id").run()
        try await sql.create(index: "imports_sha256_idx").on(ImportRow.schema).column("sha256").run()
        try await sql.create(index: "import_rejects_import_line_idx").on(ImportRejectRow.schema).column("import_id")
            .column("line").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ImportRejectRow.schema).delete()
        try await database.schema(ImportChunkRow.schema).delete()
        try await database.schema(ImportRow.schema).delete()
    }
}
