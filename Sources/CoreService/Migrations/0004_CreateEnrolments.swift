import FluentKit
import SQLKit

struct CreateEnrolments: AsyncMigration {
    var name: String { "core.0004_CreateEnrolments" }

    func prepare(on database: any Database) async throws {
        try await database.schema(EnrolmentRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("project_id", .uuid, .required, .references(ProjectRow.schema, "id"))
            .field("beneficiary_id", .uuid, .required, .references(BeneficiaryRow.schema, "id"))
            .field("type", .string, .required)
            .field("enrolled_by", .uuid, .required)
            .field("enrolled_at", .datetime, .required)
            .unique(on: "project_id", "beneficiary_id")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        // Listing a project's beneficiaries walks (project_id, beneficiary_id) via the unique
        // index; finding a beneficiary's projects (for scoped access) needs this one.
        try await sql.create(index: "enrolments_beneficiary_idx").on(EnrolmentRow.schema).column("beneficiary_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(EnrolmentRow.schema).delete()
    }
}
