import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Approvers and fundings as stored: column lists, row decoding and lookups.
extension C2CDomain {
    func storedApprovers(_ projectID: UUID) async throws -> ApproverSet? {
        guard
            let row = try await sql.select().columns("user_ids", "required", "updated_at", "updated_by")
                .from("approvers").where("project_id", .equal, SQLBind(projectID)).first()
        else { return nil }
        return ApproverSet(
            projectID: projectID,
            userIDs: try Self.decodeIDs(try row.decode(column: "user_ids", as: String.self)),
            required: try row.decode(column: "required", as: Int.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            updatedBy: try row.decode(column: "updated_by", as: UUID.self)
        )
    }

    static let fundingColumns = [
        "id", "project_id", "amount", "asset", "reference", "note", "transfer_id", "created_by", "created_at",
    ].map { SQLIdentifier($0) as any SQLExpression }

    static func funding(from row: any SQLRow) throws -> FundingRecord {
        FundingRecord(
            id: try row.decode(column: "id", as: UUID.self),
            projectID: try row.decode(column: "project_id", as: UUID.self),
            amount: try row.decode(column: "amount", as: Int64.self),
            asset: try row.decode(column: "asset", as: String.self),
            reference: try row.decode(column: "reference", as: String.self),
            note: try row.decode(column: "note", as: String?.self),
            transferID: try row.decode(column: "transfer_id", as: UUID.self),
            createdBy: try row.decode(column: "created_by", as: UUID.self),
            createdAt: try row.decode(column: "created_at", as: Date.self)
        )
    }
}
