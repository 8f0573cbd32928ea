import FluentKit
import Foundation
import SQLKit

/// The reads behind a project's roster: who may be paid, with what decides whether they are.
enum RosterStore {
    /// Up to `limit` members of `groupID` after `after`, in beneficiary id order, each with whether
    /// it is enrolled in `projectID` (a left join: members outside the project are listed too).
    static func groupMembers(
        of groupID: UUID, in projectID: UUID, after: UUID?, limit: Int, on sql: any SQLDatabase
    ) async throws -> [RosterEntry] {
        var query = sql.select()
            .column(SQLColumn("beneficiary_id", table: "m"))
            .column(SQLColumn("verification_status", table: "b"))
            .column(SQLColumn("archived_at", table: "b"))
            .column(SQLAlias(SQLColumn("id", table: "e"), as: SQLIdentifier("enrolment_id")))
            .from(SQLAlias(SQLIdentifier(GroupMemberRow.schema), as: SQLIdentifier("m")))
            .join(
                SQLAlias(SQLIdentifier(BeneficiaryRow.schema), as: SQLIdentifier("b")),
                on: SQLColumn("id", table: "b"), .equal, SQLColumn("beneficiary_id", table: "m")
            )
            .join(
                SQLAlias(SQLIdentifier(EnrolmentRow.schema), as: SQLIdentifier("e")), method: SQLJoinMethod.left,
                on: SQLBinaryExpression(
                    SQLBinaryExpression(
                        SQLColumn("beneficiary_id", table: "e"), .equal, SQLColumn("beneficiary_id", table: "m")),
                    .and,
                    SQLBinaryExpression(SQLColumn("project_id", table: "e"), .equal, SQLBind(projectID)))
            )
            .where(SQLColumn("group_id", table: "m"), .equal, SQLBind(groupID))
        if let after { query = query.where(SQLColumn("beneficiary_id", table: "m"), .greaterThan, SQLBind(after)) }
        return try await query.orderBy(SQLColumn("beneficiary_id", table: "m")).limit(limit).all()
            .map { row in
                RosterEntry(
                    beneficiaryID: try row.decode(column: "beneficiary_id", as: UUID.self),
                    enrolled: try row.decode(column: "enrolment_id", as: UUID?.self) != nil,
                    verificationStatus: try row.decode(column: "verification_status", as: String.self),
                    archived: try row.decode(column: "archived_at", as: Date?.self) != nil)
            }
    }

    /// Up to `limit` of the project's enrolled beneficiaries in id order: those after `after`,
    /// or those of `ids` that are enrolled.
    static func enrolled(
        in projectID: UUID, after: UUID?, only ids: [UUID]?, limit: Int, on sql: any SQLDatabase
    ) async throws -> [RosterEntry] {
        var query = sql.select()
            .column(SQLColumn("beneficiary_id", table: "e"))
            .column(SQLColumn("verification_status", table: "b"))
            .column(SQLColumn("archived_at", table: "b"))
            .from(SQLAlias(SQLIdentifier(EnrolmentRow.schema), as: SQLIdentifier("e")))
            .join(
                SQLAlias(SQLIdentifier(BeneficiaryRow.schema), as: SQLIdentifier("b")),
                on: SQLColumn("id", table: "b"), .equal, SQLColumn("beneficiary_id", table: "e")
            )
            .where(SQLColumn("project_id", table: "e"), .equal, SQLBind(projectID))
        if let after { query = query.where(SQLColumn("beneficiary_id", table: "e"), .greaterThan, SQLBind(after)) }
        if let ids { query = query.where(SQLColumn("beneficiary_id", table: "e"), .in, SQLBind.group(ids)) }
        return try await query.orderBy(SQLColumn("beneficiary_id", table: "e")).limit(limit).all()
            .map { row in
                RosterEntry(
                    beneficiaryID: try row.decode(column: "beneficiary_id", as: UUID.self), enrolled: true,
                    verificationStatus: try row.decode(column: "verification_status", as: String.self),
                    archived: try row.decode(column: "archived_at", as: Date?.self) != nil)
            }
    }
}
