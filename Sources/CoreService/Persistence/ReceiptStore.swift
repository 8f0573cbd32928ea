import FluentKit
import Foundation
import SQLKit
import SharedModels

/// What each beneficiary received per project (`receipts`), counted from project-c2c's events.
enum ReceiptStore {
    /// Rows upserted per statement, under both databases' bind limits.
    static let upsertChunk = 1_000

    /// Adds each beneficiary's sum to its receipts in `projectID`, creating the row on its first
    /// payment. One beneficiary appears once in `sums`: one statement may not upsert a row twice.
    static func add(
        _ sums: [UUID: (amount: Int64, count: Int)], in projectID: UUID, at: Date, on sql: any SQLDatabase
    ) async throws {
        // In one order, so consumers upserting at once take the rows' locks alike (no deadlock).
        let ordered = sums.sorted { lhs, rhs in lhs.key.precedesInBytes(rhs.key) }
        for chunk in ordered.chunks(of: upsertChunk) {
            var insert = sql.insert(into: "receipts")
                .columns("project_id", "beneficiary_id", "received", "payments", "last_received_at")
            for (beneficiary, sum) in chunk {
                insert = insert.values(
                    SQLBind(projectID), SQLBind(beneficiary), SQLBind(sum.amount), SQLBind(sum.count),
                    SQLBind(at))
            }
            try await insert.onConflict(with: ["project_id", "beneficiary_id"]) { update in
                update.set("received", to: SQLRaw("receipts.received + excluded.received"))
                    .set("payments", to: SQLRaw("receipts.payments + excluded.payments"))
                    .set(excludedValueOf: "last_received_at")
            }.run()
        }
    }
}
