import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Settlements as stored: column lists, row decoding and lookups.
extension C2CDomain {
    func storedSettlement(_ id: UUID) async throws -> SettlementRecord {
        guard
            let record = try await sql.select().columns(Self.settlementColumns).from("settlements")
                .where("id", .equal, SQLBind(id)).first().map(Self.settlement(from:))
        else { throw C2CError.settlementNotFound }
        return record
    }

    static let settlementColumns = [
        "id", "run_id", "project_id", "vendor_id", "vendor_user_id", "vendor_name", "payout_account", "amount", "asset",
        "redemption_count", "period_start", "period_end", "status", "payout_reference", "failure_reason", "created_by",
        "created_at", "updated_at", "completed_at",
    ].map { SQLIdentifier($0) as any SQLExpression }

    static func settlement(from row: any SQLRow) throws -> SettlementRecord {
        let status = try row.decode(column: "status", as: String.self)
        guard let parsed = SettlementStatus(rawValue: status) else {
            throw C2CStorageError(description: "settlement status '\(status)'")
        }
        let payout = try JSONDecoder().decode(
            PayoutAccount.self, from: Data(try row.decode(column: "payout_account", as: String.self).utf8))
        return SettlementRecord(
            id: try row.decode(column: "id", as: UUID.self),
            runID: try row.decode(column: "run_id", as: UUID.self),
            projectID: try row.decode(column: "project_id", as: UUID.self),
            vendorID: try row.decode(column: "vendor_id", as: UUID.self),
            vendorUserID: try row.decode(column: "vendor_user_id", as: UUID.self),
            vendorName: try row.decode(column: "vendor_name", as: String.self),
            payoutAccount: payout,
            amount: try row.decode(column: "amount", as: Int64.self),
            asset: try row.decode(column: "asset", as: String.self),
            redemptionCount: try row.decode(column: "redemption_count", as: Int64.self),
            periodStart: try row.decode(column: "period_start", as: Date.self),
            periodEnd: try row.decode(column: "period_end", as: Date.self),
            status: parsed,
            payoutReference: try row.decode(column: "payout_reference", as: String?.self),
            failureReason: try row.decode(column: "failure_reason", as: String?.self),
            createdBy: try row.decode(column: "created_by", as: UUID.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            completedAt: try row.decode(column: "completed_at", as: Date?.self)
        )
    }
}
