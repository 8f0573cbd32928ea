import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Redemptions as stored: column lists, row decoding and lookups.
extension C2CDomain {
    func storedRedemption(_ id: UUID) async throws -> RedemptionRecord {
        guard
            let record = try await sql.select().columns(Self.redemptionColumns).from("redemptions")
                .where("id", .equal, SQLBind(id)).first().map(Self.redemption(from:))
        else { throw C2CError.redemptionNotFound }
        return record
    }

    static let redemptionColumns = [
        "id", "project_id", "vendor_id", "vendor_user_id", "beneficiary_id", "amount", "asset", "status",
        "phone_hint", "expires_at", "attempts", "transfer_id", "failure_reason", "settlement_id", "requested_by",
        "created_at", "confirmed_at",
    ]

    static func redemption(from row: any SQLRow) throws -> RedemptionRecord {
        let status = try row.decode(column: "status", as: String.self)
        guard let parsed = RedemptionStatus(rawValue: status) else {
            throw C2CStorageError(description: "redemption status '\(status)'")
        }
        return RedemptionRecord(
            id: try row.decode(column: "id", as: UUID.self),
            projectID: try row.decode(column: "project_id", as: UUID.self),
            vendorID: try row.decode(column: "vendor_id", as: UUID.self),
            vendorUserID: try row.decode(column: "vendor_user_id", as: UUID.self),
            beneficiaryID: try row.decode(column: "beneficiary_id", as: UUID.self),
            amount: try row.decode(column: "amount", as: Int64.self),
            asset: try row.decode(column: "asset", as: String.self),
            status: parsed,
            phoneHint: try row.decode(column: "phone_hint", as: String.self),
            expiresAt: try row.decode(column: "expires_at", as: Date.self),
            attempts: try row.decode(column: "attempts", as: Int.self),
            transferID: try row.decode(column: "transfer_id", as: UUID?.self),
            failureReason: try row.decode(column: "failure_reason", as: String?.self),
            settlementID: try row.decode(column: "settlement_id", as: UUID?.self),
            requestedBy: try row.decode(column: "requested_by", as: UUID.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            confirmedAt: try row.decode(column: "confirmed_at", as: Date?.self)
        )
    }
}
