import FluentKit
import SQLKit

/// A client's reference for a disbursement request, so a request sent again (after a timeout)
/// answers the draft it made instead of drafting it twice.
struct DisbursementReference: AsyncMigration {
    var name: String { "c2c.0005_DisbursementReference" }

    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds one at a time.
        try await database.schema("disbursements").field("reference", .string).update()
        try await database.schema("disbursements").field("request_hash", .string).update()
        guard let sql = database as? any SQLDatabase else { return }
        // Many disbursements carry none: NULLs do not collide in a unique index on either database.
        try await sql.create(index: "disbursements_reference_idx").unique().on("disbursements")
            .column("project_id").column("reference").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "disbursements_reference_idx").run()
        try await database.schema("disbursements").deleteField("request_hash").update()
        try await database.schema("disbursements").deleteField("reference").update()
    }
}
