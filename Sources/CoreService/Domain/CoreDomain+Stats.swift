import FluentKit
import Foundation
import SQLKit
import ServerKit
import SharedModels

/// A project's beneficiaries and vendors, counted.
struct ProjectStatsInfo: Sendable, Equatable {
    var beneficiaries: Int
    var byVerificationStatus: [String: Int]
    var byGender: [String: Int]
    var byPhoneStatus: [String: Int]
    var vendorsActive: Int
    var vendorsInactive: Int
    /// Counted from project-c2c's disbursement events.
    var receivedTotal: Int64 = 0
    var beneficiariesReceived = 0
}

extension CoreDomain {
    /// Counts a project's live enrolled beneficiaries in one grouped query whose cost follows the
    /// project's size, never the whole table's (see ``statsQuery(_:on:)``).
    func projectStats(_ id: String, by caller: Principal) async throws -> ProjectStatsInfo {
        let projectID = try parseID(id, field: "projectId")
        try caller.require(Permission(.project, .read, projectID: projectID.lowercasedString))
        guard try await ProjectRow.find(projectID, on: db) != nil else { throw CoreError.projectNotFound }
        guard let sql = db as? any SQLDatabase else { throw CoreError.projectNotFound }

        struct Bucket: Decodable {
            var verification_status: String
            var gender: String
            var phone_status: String
            var total: Int
        }
        let buckets = try await sql.raw(Self.statsQuery(projectID, on: sql)).all(decoding: Bucket.self)
        var stats = ProjectStatsInfo(
            beneficiaries: 0,
            byVerificationStatus: Dictionary(uniqueKeysWithValues: BeneficiaryVocabulary.verification.map { ($0, 0) }),
            byGender: Dictionary(uniqueKeysWithValues: BeneficiaryVocabulary.gender.map { ($0, 0) }),
            byPhoneStatus: Dictionary(uniqueKeysWithValues: BeneficiaryVocabulary.phone.map { ($0, 0) }),
            vendorsActive: 0,
            vendorsInactive: 0
        )
        for bucket in buckets {
            stats.beneficiaries += bucket.total
            stats.byVerificationStatus[bucket.verification_status, default: 0] += bucket.total
            stats.byGender[bucket.gender, default: 0] += bucket.total
            stats.byPhoneStatus[bucket.phone_status, default: 0] += bucket.total
        }

        struct VendorBucket: Decodable {
            var status: String
            var total: Int
        }
        let vendors = try await sql.select()
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
        for bucket in vendors {
            if bucket.status == VendorStatus.active.rawValue {
                stats.vendorsActive += bucket.total
            } else {
                stats.vendorsInactive += bucket.total
            }
        }
        let receipts = try await sql.select()
            // PostgreSQL sums BIGINT as NUMERIC; the total fits in 64 bits as the ledger's amounts do.
            .column(SQLRaw("CAST(COALESCE(SUM(received), 0) AS BIGINT)"), as: "total")
            .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "people")
            .from("receipts").where("project_id", .equal, SQLBind(projectID)).first()
        stats.receivedTotal = try receipts?.decode(column: "total", as: Int64.self) ?? 0
        stats.beneficiariesReceived = try receipts?.decode(column: "people", as: Int.self) ?? 0
        return stats
    }

    /// The beneficiary counting query, also used by tests to check its plan.
    ///
    /// Each of the project's enrolments (found through the `(project_id, beneficiary_id)` index)
    /// looks up its beneficiary by primary key. On PostgreSQL the lookup is a `LATERAL` subquery
    /// fenced with `OFFSET 0`: otherwise the planner flattens it into a hash join over a sequential
    /// scan of every beneficiary, whose cost grows with the whole table instead of the project.
    static func statsQuery(_ projectID: UUID, on sql: any SQLDatabase) -> SQLQueryString {
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
}
