import FluentKit
import SQLKit

/// Redemptions at vendors. The one-time code is kept only as a salted digest; the phone it went
/// to only as a hint.
struct CreateRedemptions: AsyncMigration {
    var name: String { "c2c.0006_CreateRedemptions" }

    func prepare(on database: any Database) async throws {
        try await database.schema("redemptions")
            .field("id", .uuid, .identifier(auto: false))
            .field("project_id", .uuid, .required)
            .field("vendor_id", .uuid, .required)
            // Copied from the vendor when requested: who may confirm it and read it as its own,
            // without asking core on every call.
            .field("vendor_user_id", .uuid, .required)
            .field("beneficiary_id", .uuid, .required)
            .field("amount", .int64, .required)
            .field("asset", .string, .required)
            .field("status", .string, .required)
            .field("phone_hint", .string, .required)
            .field("code_salt", .string, .required)
            .field("code_hash", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("attempts", .int, .required)
            .field("transfer_id", .uuid)
            .field("failure_reason", .string)
            .field("settlement_id", .uuid)
            .field("requested_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("confirmed_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        // Codes sent to one beneficiary lately are counted on every request.
        try await sql.create(index: "redemptions_beneficiary_idx").on("redemptions")
            .column("beneficiary_id").column("created_at").run()
        // One live code per vendor and beneficiary: identical requests at once write one row.
        try await sql.raw(
            "CREATE UNIQUE INDEX redemptions_open_idx ON redemptions (vendor_id, beneficiary_id) WHERE status = 'requested'"
        ).run()
        try await sql.create(index: "redemptions_vendor_idx").on("redemptions").column("vendor_id").column("id").run()
        try await sql.create(index: "redemptions_project_idx").on("redemptions").column("project_id").column("id")
            .run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("redemptions").delete()
    }
}
