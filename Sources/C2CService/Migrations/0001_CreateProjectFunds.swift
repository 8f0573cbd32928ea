import FluentKit
import SQLKit

/// Each project's disbursement approvers, and the donor fundings recorded for it.
struct CreateProjectFunds: AsyncMigration {
    var name: String { "c2c.0001_CreateProjectFunds" }

    func prepare(on database: any Database) async throws {
        try await database.schema("approvers")
            .field("project_id", .uuid, .identifier(auto: false))
            // A JSON array of user ids, in the order they were named.
            .field("user_ids", .string, .required)
            .field("required", .int, .required)
            .field("updated_at", .datetime, .required)
            .field("updated_by", .uuid, .required)
            .create()
        try await database.schema("fundings")
            .field("id", .uuid, .identifier(auto: false))
            .field("project_id", .uuid, .required)
            .field("amount", .int64, .required)
            .field("asset", .string, .required)
            .field("reference", .string, .required)
            .field("note", .string)
            .field("transfer_id", .uuid, .required)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            // A reference is recorded once per project: a second request is a replay or a mistake.
            .unique(on: "project_id", "reference")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("fundings").delete()
        try await database.schema("approvers").delete()
    }
}
