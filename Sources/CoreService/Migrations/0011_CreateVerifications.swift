import FluentKit
import SQLKit

/// KYC: check runs, watch lists, and on each beneficiary the run in force and the blind index of
/// its normalised name with birth date (for likely duplicates and watch-list matches).
struct CreateVerifications: AsyncMigration {
    var name: String { "core.0011_CreateVerifications" }

    func prepare(on database: any Database) async throws {
        try await database.schema(VerificationRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            // No foreign key: a run is queued in the transaction that writes its beneficiary,
            // before the row exists; beneficiaries are archived, never deleted.
            .field("beneficiary_id", .uuid, .required)
            .field("status", .string, .required)
            .field("checks", .string, .required)
            .field("reasons", .string, .required)
            .field("requested_by", .uuid, .required)
            .field("requested_at", .datetime, .required)
            .field("job_id", .string, .required)
            .field("checked_at", .datetime)
            .field("reviewer_id", .uuid)
            .field("decision", .string)
            .field("note", .string)
            .field("decided_at", .datetime)
            .create()
        try await database.schema(WatchListRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("file_name", .string)
            .field("entries", .int64, .required)
            .field("uploaded_by", .uuid, .required)
            .field("uploaded_at", .datetime, .required)
            .create()
        try await database.schema(WatchListEntryRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("list_id", .uuid, .required, .references(WatchListRow.schema, "id", onDelete: .cascade))
            .field("line", .int64, .required)
            .field("national_id_index", .string)
            .field("phone_index", .string)
            .field("identity_index", .string)
            .field("reason", .string)
            .create()
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        try await database.schema(BeneficiaryRow.schema).field("verification_id", .uuid).update()
        try await database.schema(BeneficiaryRow.schema).field("identity_index", .string).update()
        guard let sql = database as? any SQLDatabase else { return }
        // Reviewers page through one status; a beneficiary's runs are listed together.
        try await sql.create(index: "verifications_status_idx").on(VerificationRow.schema).column("status")
            .column("id").run()
        try await sql.create(index: "verifications_beneficiary_idx").on(VerificationRow.schema)
            .column("beneficiary_id").column("id").run()
        try await sql.create(index: "beneficiaries_identity_idx").on(BeneficiaryRow.schema).column("identity_index")
            .run()
        for column in ["national_id_index", "phone_index", "identity_index"] {
            try await sql.create(index: "watch_list_entries_\(column)_idx").on(WatchListEntryRow.schema)
                .column("list_id").column(column).run()
        }
    }

    func revert(on database: any Database) async throws {
        if let sql = database as? any SQLDatabase {
            try await sql.drop(index: "beneficiaries_identity_idx").run()
        }
        try await database.schema(BeneficiaryRow.schema).deleteField("identity_index").update()
        try await database.schema(BeneficiaryRow.schema).deleteField("verification_id").update()
        try await database.schema(WatchListEntryRow.schema).delete()
        try await database.schema(WatchListRow.schema).delete()
        try await database.schema(VerificationRow.schema).delete()
    }
}
