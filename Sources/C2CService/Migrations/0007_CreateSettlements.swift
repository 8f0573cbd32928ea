import FluentKit
import SQLKit

/// Settlement runs (one payout file each) and their settlements (one per vendor).
struct CreateSettlements: AsyncMigration {
    var name: String { "c2c.0007_CreateSettlements" }

    func prepare(on database: any Database) async throws {
        try await database.schema("settlement_runs")
            .field("id", .uuid, .identifier(auto: false))
            .field("project_id", .uuid, .required)
            .field("asset", .string, .required)
            .field("scale", .int, .required)
            .field("job_id", .string, .required)
            // Written by the run's job; kept as sent, so the bank's file can be fetched again.
            .field("csv", .string)
            .field("pain001", .string)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("files_at", .datetime)
            .create()
        try await database.schema("settlements")
            .field("id", .uuid, .identifier(auto: false))
            .field("run_id", .uuid, .required)
            .field("project_id", .uuid, .required)
            .field("vendor_id", .uuid, .required)
            .field("vendor_user_id", .uuid, .required)
            .field("vendor_name", .string, .required)
            // The vendor's payout account when the run started (JSON): later edits do not change
            // where this money was sent.
            .field("payout_account", .string, .required)
            .field("amount", .int64, .required)
            .field("asset", .string, .required)
            .field("redemption_count", .int64, .required)
            .field("period_start", .datetime, .required)
            .field("period_end", .datetime, .required)
            .field("status", .string, .required)
            .field("payout_reference", .string)
            .field("failure_reason", .string)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("completed_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "settlements_run_idx").on("settlements").column("run_id").column("id").run()
        try await sql.create(index: "settlements_project_idx").on("settlements").column("project_id").column("id")
            .run()
        try await sql.create(index: "settlements_vendor_idx").on("settlements").column("vendor_id").column("id").run()
        // A run gathers a vendor's confirmed redemptions that no settlement covers yet.
        try await sql.create(index: "redemptions_unsettled_idx").on("redemptions")
            .column("project_id").column("vendor_id").column("status").column("settlement_id").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "redemptions_unsettled_idx").run()
        try await database.schema("settlements").delete()
        try await database.schema("settlement_runs").delete()
    }
}
