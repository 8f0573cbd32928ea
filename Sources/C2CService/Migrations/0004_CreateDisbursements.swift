import FluentKit
import SQLKit

/// Disbursements, their lines (fixed when drafted) and the approvers' decisions.
struct CreateDisbursements: AsyncMigration {
    var name: String { "c2c.0004_CreateDisbursements" }

    func prepare(on database: any Database) async throws {
        try await database.schema("disbursements")
            .field("id", .uuid, .identifier(auto: false))
            .field("project_id", .uuid, .required)
            .field("name", .string, .required)
            .field("status", .string, .required)
            .field("asset", .string, .required)
            // `disburse` for cash projects, `allocate` for voucher ones: the ledger kind of its lines.
            .field("transfer_kind", .string, .required)
            .field("total", .int64, .required)
            .field("line_count", .int64, .required)
            .field("amount_per_beneficiary", .int64)
            .field("group_id", .uuid)
            // Taken from the project's approvers on submission: later changes to them do not
            // move the goalposts of a disbursement under approval.
            .field("required_approvals", .int, .required)
            .field("approver_ids", .string, .required)
            .field("lines_completed", .int64, .required)
            .field("lines_failed", .int64, .required)
            .field("amount_completed", .int64, .required)
            // Each execution round (the first, then each retry) queues its own jobs.
            .field("round", .int, .required)
            .field("job_ids", .string, .required)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("submitted_at", .datetime)
            .field("approved_at", .datetime)
            .field("completed_at", .datetime)
            .create()
        try await database.schema("disbursement_lines")
            .field("disbursement_id", .uuid, .required)
            .field("line_number", .int64, .required)
            .field("beneficiary_id", .uuid, .required)
            .field("amount", .int64, .required)
            .field("status", .string, .required)
            .field("transfer_id", .uuid)
            .field("attempts", .int, .required)
            .field("last_error", .string)
            .compositeIdentifier(over: "disbursement_id", "line_number")
            // One line per beneficiary: nobody is paid twice by one disbursement.
            .unique(on: "disbursement_id", "beneficiary_id")
            .create()
        try await database.schema("disbursement_approvals")
            .field("disbursement_id", .uuid, .required)
            .field("user_id", .uuid, .required)
            .field("approved", .bool, .required)
            .field("note", .string)
            .field("decided_at", .datetime, .required)
            .compositeIdentifier(over: "disbursement_id", "user_id")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "disbursements_project_idx").on("disbursements").column("project_id").column("id")
            .run()
        // Failed lines are listed and retried by status.
        try await sql.create(index: "disbursement_lines_status_idx").on("disbursement_lines")
            .column("disbursement_id").column("status").column("line_number").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("disbursement_approvals").delete()
        try await database.schema("disbursement_lines").delete()
        try await database.schema("disbursements").delete()
    }
}
