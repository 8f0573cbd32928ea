import FluentKit
import Foundation
import SQLKit

/// The grouped counts behind a project's stats.
enum StatsStore {
    /// Live enrolled beneficiaries of one verification status, gender and phone status.
    struct BeneficiaryBucket: Decodable {
        var verification_status: String
        var gender: String
        var phone_status: String
        var total: Int
    }

    /// Vendors of one status.
    struct VendorBucket: Decodable {
        var status: String
        var total: Int
    }

    /// The project's live enrolled beneficiaries, counted per bucket in one grouped query.
    static func beneficiaryBuckets(of projectID: UUID, on sql: any SQLDatabase) async throws -> [BeneficiaryBucket] {
        try await sql.raw(beneficiaryCountQuery(projectID, on: sql)).all(decoding: BeneficiaryBucket.self)
    }

    /// The beneficiary counting query, also used by tests to check its plan.
    ///
    /// Each of the project's enrolments (found through the `(project_id, beneficiary_id)` index)
    /// looks up its beneficiary by primary key. On PostgreSQL the lookup is a `LATERAL` subquery
    /// fenced with `OFFSET 0`: otherwise the planner flattens it into a hash join over a sequential
    /// scan of every beneficiary, whose cost grows with the whole table instead of the project.
    static func beneficiaryCountQuery(_ projectID: UUID, on sql: any SQLDatabase) -> SQLQueryString {
        if sql.dialect.name == "postgresql" {
            return """
                SELECT b.verification_status, b.gender, b.phone_status, COUNT(*) AS total
                FROM enrolments e
                CROSS JOIN LATERAL (
                    SELECT verification_status, gender, phone_status FROM beneficiaries
                    WHERE id = e.beneficiary_id AND archived_at IS NULL OFFSET 0
                ) b
                WHERE e.project_id = \(bind: projectID)
                GROUP BY b.verification_status, b.gender, b.phone_status
                """
        }
        return """
            SELECT b.verification_status, b.gender, b.phone_status, COUNT(*) AS total
            FROM enrolments e JOIN beneficiaries b ON b.id = e.beneficiary_id
            WHERE e.project_id = \(bind: projectID) AND b.archived_at IS NULL
            GROUP BY b.verification_status, b.gender, b.phone_status
            """
    }

    /// The project's vendors, counted per status.
    static func vendorBuckets(of projectID: UUID, on sql: any SQLDatabase) async throws -> [VendorBucket] {
        try await sql.select()
            .column(SQLColumn("status", table: VendorRow.schema))
            .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "total")
            .from(ProjectVendorRow.schema)
            .join(
                VendorRow.schema, on: SQLColumn("id", table: VendorRow.schema), .equal,
                SQLColumn("vendor_id", table: ProjectVendorRow.schema)
            )
            .where(SQLColumn("project_id", table: ProjectVendorRow.schema), .equal, SQLBind(projectID))
            .groupBy(SQLColumn("status", table: VendorRow.schema))
            .all(decoding: VendorBucket.self)
    }

    /// What the project's beneficiaries received in all, and how many received anything.
    static func receipts(of projectID: UUID, on sql: any SQLDatabase) async throws -> (total: Int64, people: Int) {
        let receipts = try await sql.select()
            // PostgreSQL sums BIGINT as NUMERIC; the total fits in 64 bits as the ledger's amounts do.
            .column(SQLRaw("CAST(COALESCE(SUM(received), 0) AS BIGINT)"), as: "total")
            .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "people")
            .from("receipts").where("project_id", .equal, SQLBind(projectID)).first()
        return (
            try receipts?.decode(column: "total", as: Int64.self) ?? 0,
            try receipts?.decode(column: "people", as: Int.self) ?? 0
        )
    }
}
