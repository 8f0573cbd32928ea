import FluentKit

/// What each beneficiary has received in each project, counted from project-c2c's
/// `rahat.c2c.fund.disbursed` events (the ledger holds the money; this is core's statistic).
struct CreateReceipts: AsyncMigration {
    var name: String { "core.0013_CreateReceipts" }

    func prepare(on database: any Database) async throws {
        try await database.schema("receipts")
            .field("project_id", .uuid, .required)
            .field("beneficiary_id", .uuid, .required)
            .field("received", .int64, .required)
            .field("payments", .int, .required)
            .field("last_received_at", .datetime, .required)
            .compositeIdentifier(over: "project_id", "beneficiary_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("receipts").delete()
    }
}
