import FluentKit
import Foundation
import Persistence
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

    /// Where the counts of each project's live enrolled beneficiaries are kept, as deltas per
    /// bucket (see `CountProjectBeneficiaries`, the migration whose triggers write them).
    static let countsTable = "project_beneficiary_counts"

    /// The project's live enrolled beneficiaries per bucket: the sum of its delta rows, a few
    /// per bucket once folded, however many people the project has.
    static func beneficiaryBuckets(of projectID: UUID, on sql: any SQLDatabase) async throws -> [BeneficiaryBucket] {
        try await sql.raw(
            """
            SELECT verification_status, gender, phone_status, CAST(SUM(delta) AS BIGINT) AS total
            FROM \(ident: countsTable) WHERE project_id = \(bind: projectID)
            GROUP BY verification_status, gender, phone_status HAVING SUM(delta) <> 0
            """
        ).all(decoding: BeneficiaryBucket.self)
    }

    /// Projects with more than `rows` delta rows, the most first, at most `limit` of them.
    static func projectsToFold(over rows: Int, limit: Int, on sql: any SQLDatabase) async throws -> [UUID] {
        try await sql.raw(
            """
            SELECT project_id FROM \(ident: countsTable) GROUP BY project_id
            HAVING COUNT(*) > \(bind: rows) ORDER BY COUNT(*) DESC LIMIT \(bind: limit)
            """
        ).all().map { try $0.decode(column: "project_id", as: UUID.self) }
    }

    /// Replaces the project's delta rows with one per bucket holding their sum (none for a bucket
    /// that sums to zero); answers how many rows it removed.
    ///
    /// On PostgreSQL one statement deletes the rows and inserts their sums, so a delta committed
    /// meanwhile is either among the rows removed and summed or left as it is, never lost. SQLite
    /// writes one transaction at a time, so there the same three steps run in one transaction.
    @discardableResult
    static func fold(_ projectID: UUID, on database: any Database) async throws -> Int {
        let sql = try database.sql()
        if sql.dialect.name == "postgresql" {
            let row = try await sql.raw(
                """
                WITH gone AS (
                    DELETE FROM \(ident: countsTable) WHERE project_id = \(bind: projectID)
                    RETURNING verification_status, gender, phone_status, delta
                ), folded AS (
                    INSERT INTO \(ident: countsTable) (project_id, verification_status, gender, phone_status, delta)
                    SELECT \(bind: projectID), verification_status, gender, phone_status, SUM(delta)
                    FROM gone GROUP BY verification_status, gender, phone_status HAVING SUM(delta) <> 0
                )
                SELECT COUNT(*) AS removed FROM gone
                """
            ).first()
            return try row?.decode(column: "removed", as: Int.self) ?? 0
        }
        return try await database.transaction { tx in
            let sql = try tx.sql()
            let buckets = try await beneficiaryBuckets(of: projectID, on: sql)
            let removed =
                try await sql.raw(
                    "SELECT COUNT(*) AS removed FROM \(ident: countsTable) WHERE project_id = \(bind: projectID)"
                ).first()?.decode(column: "removed", as: Int.self) ?? 0
            try await sql.delete(from: countsTable).where("project_id", .equal, SQLBind(projectID)).run()
            var insert = BulkInsert(
                into: countsTable, columns: ["project_id", "verification_status", "gender", "phone_status", "delta"])
            for bucket in buckets {
                insert.append([
                    .uuid(projectID), .text(bucket.verification_status), .text(bucket.gender),
                    .text(bucket.phone_status), .int(bucket.total),
                ])
            }
            try await insert.run(on: tx)
            return removed
        }
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
