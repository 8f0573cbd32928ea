import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Redemptions as stored, and every statement that reads or changes them.
enum RedemptionStore {
    static func redemption(_ id: UUID, on sql: any SQLDatabase) async throws -> RedemptionRecord? {
        try await sql.select().columns(redemptionColumns).from("redemptions")
            .where("id", .equal, SQLBind(id)).first().map(redemption(from:))
    }

    /// Writes a new request with its code's digest; false when the vendor has an open request
    /// for the beneficiary already (the open-request index: of identical requests at once, one
    /// row is written).
    static func insert(
        _ record: RedemptionRecord, codeSalt: String, codeHash: String, on sql: any SQLDatabase
    ) async throws -> Bool {
        try await !sql.insert(into: "redemptions")
            .columns(
                "id", "project_id", "vendor_id", "vendor_user_id", "beneficiary_id", "amount", "asset", "status",
                "phone_hint", "code_salt", "code_hash", "expires_at", "attempts", "requested_by", "created_at",
                "updated_at"
            )
            .values(
                SQLBind(record.id), SQLBind(record.projectID), SQLBind(record.vendorID), SQLBind(record.vendorUserID),
                SQLBind(record.beneficiaryID), SQLBind(record.amount), SQLBind(record.asset),
                SQLBind(record.status.rawValue), SQLBind(record.phoneHint), SQLBind(codeSalt), SQLBind(codeHash),
                SQLBind(record.expiresAt), SQLBind(record.attempts), SQLBind(record.requestedBy),
                SQLBind(record.createdAt), SQLBind(record.createdAt)
            )
            .ignoringConflicts().returning("id").all().isEmpty
    }

    /// The vendor's request for the beneficiary still marked requested, live or run out.
    static func requested(
        vendorID: UUID, beneficiaryID: UUID, on sql: any SQLDatabase
    ) async throws
        -> RedemptionRecord?
    {
        try await sql.select().columns(redemptionColumns).from("redemptions")
            .where("vendor_id", .equal, SQLBind(vendorID)).where("beneficiary_id", .equal, SQLBind(beneficiaryID))
            .where("status", .equal, SQLBind(RedemptionStatus.requested.rawValue)).first()
            .map(redemption(from:))
    }

    /// A request still marked requested → confirmed with `transfer`, or expired with `reason`
    /// when there is none.
    static func close(
        _ id: UUID, transfer: UUID?, reason: String?, at now: Date, on sql: any SQLDatabase
    ) async throws {
        var update = sql.update("redemptions").set("updated_at", to: SQLBind(now))
        if let transfer {
            update = update.set("status", to: SQLBind(RedemptionStatus.confirmed.rawValue))
                .set("transfer_id", to: SQLBind(transfer)).set("confirmed_at", to: SQLBind(now))
        } else {
            update = update.set("status", to: SQLBind(RedemptionStatus.expired.rawValue))
                .set("failure_reason", to: SQLBind(reason))
        }
        try await update.where("id", .equal, SQLBind(id))
            .where("status", .equal, SQLBind(RedemptionStatus.requested.rawValue)).run()
    }

    /// → failed with `reason`.
    static func fail(_ id: UUID, reason: String, at now: Date? = nil, on sql: any SQLDatabase) async throws {
        var update = sql.update("redemptions").set("status", to: SQLBind(RedemptionStatus.failed.rawValue))
            .set("failure_reason", to: SQLBind(reason))
        if let now { update = update.set("updated_at", to: SQLBind(now)) }
        try await update.where("id", .equal, SQLBind(id)).run()
    }

    /// The wrong-code counts of the vendor's requests changed since `since`, with when.
    static func recentWrongCodes(
        vendorID: UUID, since: Date, on sql: any SQLDatabase
    ) async throws -> [(attempts: Int, at: Date)] {
        try await sql.select().columns("attempts", "updated_at").from("redemptions")
            .where("vendor_id", .equal, SQLBind(vendorID)).where("updated_at", .greaterThan, SQLBind(since))
            .where("attempts", .greaterThan, SQLBind(0)).all()
            .map {
                (try $0.decode(column: "attempts", as: Int.self), try $0.decode(column: "updated_at", as: Date.self))
            }
    }

    /// When the first `limit` requests for the beneficiary since `since` were made, oldest first.
    static func recentRequests(
        beneficiaryID: UUID, since: Date, limit: Int, on sql: any SQLDatabase
    ) async throws -> [Date] {
        try await sql.select().column("created_at").from("redemptions")
            .where("beneficiary_id", .equal, SQLBind(beneficiaryID)).where("created_at", .greaterThan, SQLBind(since))
            .orderBy("created_at").limit(limit).all()
            .map { try $0.decode(column: "created_at", as: Date.self) }
    }

    /// Touches the row, which takes its lock (PostgreSQL) or the write lock (SQLite) for the
    /// transaction, and returns it with its code's salt and digest.
    static func lockForConfirmation(
        _ id: UUID, at now: Date, on sql: any SQLDatabase
    ) async throws -> (record: RedemptionRecord, codeSalt: String, codeHash: String)? {
        guard
            let row = try await sql.update("redemptions").set("updated_at", to: SQLBind(now))
                .where("id", .equal, SQLBind(id)).returning(
                    (redemptionColumns + ["code_salt", "code_hash"]).map { SQLIdentifier($0) }
                )
                .first()
        else { return nil }
        return (
            try redemption(from: row), try row.decode(column: "code_salt", as: String.self),
            try row.decode(column: "code_hash", as: String.self)
        )
    }

    /// Counts a wrong code; the request fails when they are `exhausted`.
    static func recordWrongCode(_ id: UUID, attempts: Int, exhausted: Bool, on sql: any SQLDatabase) async throws {
        try await sql.update("redemptions").set("attempts", to: SQLBind(attempts))
            .set("status", to: SQLBind((exhausted ? RedemptionStatus.failed : .requested).rawValue))
            .set("failure_reason", to: SQLBind(exhausted ? "too many wrong codes" : nil))
            .where("id", .equal, SQLBind(id)).run()
    }

    /// → confirmed, with the transfer that moved the value.
    static func confirm(_ id: UUID, transfer: UUID, at now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("redemptions").set("status", to: SQLBind(RedemptionStatus.confirmed.rawValue))
            .set("transfer_id", to: SQLBind(transfer)).set("confirmed_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).run()
    }

    /// A page of redemptions in id order. A status is as callers see it at `now`: a request
    /// whose code ran out is expired whatever its row says.
    static func redemptions(
        projectID: UUID?, vendorID: UUID?, beneficiaryID: UUID?, vendorUserID: UUID?, status: RedemptionStatus?,
        at now: Date, after: UUID?, limit: Int, on sql: any SQLDatabase
    ) async throws -> [RedemptionRecord] {
        var query = sql.select().columns(redemptionColumns).from("redemptions")
        if let vendorUserID { query = query.where("vendor_user_id", .equal, SQLBind(vendorUserID)) }
        if let projectID { query = query.where("project_id", .equal, SQLBind(projectID)) }
        if let vendorID { query = query.where("vendor_id", .equal, SQLBind(vendorID)) }
        if let beneficiaryID { query = query.where("beneficiary_id", .equal, SQLBind(beneficiaryID)) }
        switch status {
        case nil: break
        case .requested:
            query = query.where("status", .equal, SQLBind(RedemptionStatus.requested.rawValue))
                .where("expires_at", .greaterThan, SQLBind(now))
        case .expired:
            query = query.where { group in
                group.where("status", .equal, SQLBind(RedemptionStatus.expired.rawValue)).orWhere { requested in
                    requested.where("status", .equal, SQLBind(RedemptionStatus.requested.rawValue))
                        .where("expires_at", .lessThanOrEqual, SQLBind(now))
                }
            }
        case .confirmed, .failed:
            query = query.where("status", .equal, SQLBind(status?.rawValue))
        }
        if let after { query = query.where("id", .greaterThan, SQLBind(after)) }
        return try await query.orderBy("id").limit(limit).all().map(redemption(from:))
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
