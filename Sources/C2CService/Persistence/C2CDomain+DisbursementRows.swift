import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Disbursements, their approvals and lines as stored: column lists, row decoding and lookups.
extension C2CDomain {
    func storedDisbursement(_ id: UUID, on sql: any SQLDatabase) async throws -> DisbursementRecord? {
        guard
            var record = try await sql.select().columns(Self.disbursementColumns).from("disbursements")
                .where("id", .equal, SQLBind(id)).first().map(Self.disbursement(from:))
        else { return nil }
        record.approvals = try await approvals(of: id, on: sql)
        return record
    }

    func approvals(of id: UUID, on sql: any SQLDatabase) async throws -> [ApprovalRecord] {
        try await sql.select().columns("user_id", "approved", "note", "decided_at").from("disbursement_approvals")
            .where("disbursement_id", .equal, SQLBind(id)).orderBy("decided_at").all().map { row in
                ApprovalRecord(
                    userID: try row.decode(column: "user_id", as: UUID.self),
                    approved: try row.decode(column: "approved", as: Bool.self),
                    note: try row.decode(column: "note", as: String?.self),
                    decidedAt: try row.decode(column: "decided_at", as: Date.self))
            }
    }

    static let disbursementColumns = [
        "id", "project_id", "name", "status", "asset", "transfer_kind", "total", "line_count",
        "amount_per_beneficiary", "group_id", "required_approvals", "approver_ids", "lines_completed", "lines_failed",
        "amount_completed", "round", "job_ids", "created_by", "created_at", "updated_at", "submitted_at",
        "approved_at", "completed_at", "reference",
    ].map { SQLIdentifier($0) as any SQLExpression }

    static func disbursement(from row: any SQLRow) throws -> DisbursementRecord {
        let statusText = try row.decode(column: "status", as: String.self)
        guard let status = DisbursementStatus(rawValue: statusText) else {
            throw C2CStorageError(description: "disbursement status '\(statusText)'")
        }
        return DisbursementRecord(
            id: try row.decode(column: "id", as: UUID.self),
            projectID: try row.decode(column: "project_id", as: UUID.self),
            name: try row.decode(column: "name", as: String.self),
            status: status,
            asset: try row.decode(column: "asset", as: String.self),
            vouchers: try row.decode(column: "transfer_kind", as: String.self) == "allocate",
            total: try row.decode(column: "total", as: Int64.self),
            lineCount: try row.decode(column: "line_count", as: Int64.self),
            amountPerBeneficiary: try row.decode(column: "amount_per_beneficiary", as: Int64?.self),
            groupID: try row.decode(column: "group_id", as: UUID?.self),
            requiredApprovals: try row.decode(column: "required_approvals", as: Int.self),
            approverIDs: try decodeIDs(try row.decode(column: "approver_ids", as: String.self)),
            linesCompleted: try row.decode(column: "lines_completed", as: Int64.self),
            linesFailed: try row.decode(column: "lines_failed", as: Int64.self),
            amountCompleted: try row.decode(column: "amount_completed", as: Int64.self),
            round: try row.decode(column: "round", as: Int.self),
            jobIDs: try JSONDecoder().decode(
                [String].self, from: Data(try row.decode(column: "job_ids", as: String.self).utf8)),
            createdBy: try row.decode(column: "created_by", as: UUID.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            submittedAt: try row.decode(column: "submitted_at", as: Date?.self),
            approvedAt: try row.decode(column: "approved_at", as: Date?.self),
            completedAt: try row.decode(column: "completed_at", as: Date?.self),
            reference: try row.decode(column: "reference", as: String?.self))
    }

    static func decodeIDs(_ json: String) throws -> [UUID] {
        try JSONDecoder().decode([String].self, from: Data(json.utf8)).map { text in
            guard let id = UUID(uuidString: text) else { throw C2CStorageError(description: "user id '\(text)'") }
            return id
        }
    }

    static func encodeIDs(_ ids: [UUID]) throws -> String {
        try encodeJSON(ids.map(\.lowercasedString))
    }

    static func lineStatus(_ text: String) throws -> LineStatus {
        guard let status = LineStatus(rawValue: text) else {
            throw C2CStorageError(description: "line status '\(text)'")
        }
        return status
    }
}
