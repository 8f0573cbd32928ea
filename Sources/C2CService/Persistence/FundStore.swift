import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Approvers and fundings as stored, and the statements that read and write them.
enum FundStore {
    /// The project's approvers, or nil when none were ever set.
    static func approvers(of projectID: UUID, on sql: any SQLDatabase) async throws -> ApproverSet? {
        guard
            let row = try await sql.select().columns("user_ids", "required", "updated_at", "updated_by")
                .from("approvers").where("project_id", .equal, SQLBind(projectID)).first()
        else { return nil }
        return ApproverSet(
            projectID: projectID,
            userIDs: try StoredJSON.decodeIDs(try row.decode(column: "user_ids", as: String.self)),
            required: try row.decode(column: "required", as: Int.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            updatedBy: try row.decode(column: "updated_by", as: UUID.self)
        )
    }

    /// Sets the project's approvers, replacing any set before.
    static func setApprovers(_ set: ApproverSet, on sql: any SQLDatabase) async throws {
        try await sql.insert(into: "approvers")
            .columns("project_id", "user_ids", "required", "updated_at", "updated_by")
            .values(
                SQLBind(set.projectID), SQLBind(try StoredJSON.encodeIDs(set.userIDs)), SQLBind(set.required),
                SQLBind(set.updatedAt), SQLBind(set.updatedBy)
            )
            .onConflict(with: ["project_id"]) { update in
                update.set(excludedValueOf: "user_ids").set(excludedValueOf: "required")
                    .set(excludedValueOf: "updated_at").set(excludedValueOf: "updated_by")
            }
            .run()
    }

    /// Writes a funding unless the project has one under its reference already (then that one stands).
    static func insertFunding(_ record: FundingRecord, on sql: any SQLDatabase) async throws {
        try await sql.insert(into: "fundings")
            .columns(
                "id", "project_id", "amount", "asset", "reference", "note", "transfer_id", "created_by", "created_at"
            )
            .values(
                SQLBind(record.id), SQLBind(record.projectID), SQLBind(record.amount), SQLBind(record.asset),
                SQLBind(record.reference), SQLBind(record.note), SQLBind(record.transferID),
                SQLBind(record.createdBy), SQLBind(record.createdAt)
            )
            .ignoringConflicts(with: ["project_id", "reference"])
            .run()
    }

    /// The project's funding under `reference`.
    static func funding(projectID: UUID, reference: String, on sql: any SQLDatabase) async throws -> FundingRecord? {
        try await sql.select().columns(fundingColumns).from("fundings")
            .where("project_id", .equal, SQLBind(projectID)).where("reference", .equal, SQLBind(reference))
            .first().map(funding(from:))
    }

    /// A page of the project's fundings in id order.
    static func fundings(
        projectID: UUID, after: UUID?, limit: Int, on sql: any SQLDatabase
    ) async throws -> [FundingRecord] {
        var query = sql.select().columns(fundingColumns).from("fundings")
            .where("project_id", .equal, SQLBind(projectID))
        if let after { query = query.where("id", .greaterThan, SQLBind(after)) }
        return try await query.orderBy("id").limit(limit).all().map(funding(from:))
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
