import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Settlement runs and settlements as stored, and every statement that reads or changes them.
enum SettlementStore {
    static func settlement(_ id: UUID, on sql: any SQLDatabase) async throws -> SettlementRecord? {
        try await sql.select().columns(settlementColumns).from("settlements")
            .where("id", .equal, SQLBind(id)).first().map(settlement(from:))
    }

    /// The run's settlements in id order; those in `statuses` only, when given.
    static func settlements(
        ofRun runID: UUID, in statuses: [SettlementStatus]? = nil, on sql: any SQLDatabase
    ) async throws -> [SettlementRecord] {
        var query = sql.select().columns(settlementColumns).from("settlements").where("run_id", .equal, SQLBind(runID))
        if let statuses { query = query.where("status", .in, SQLBind.group(statuses.map(\.rawValue))) }
        return try await query.orderBy("id").all().map(settlement(from:))
    }

    /// A page of settlements in id order.
    static func settlements(
        projectID: UUID?, vendorID: UUID?, runID: UUID?, vendorUserID: UUID?, status: SettlementStatus?,
        after: UUID?, limit: Int, on sql: any SQLDatabase
    ) async throws -> [SettlementRecord] {
        var query = sql.select().columns(settlementColumns).from("settlements")
        if let vendorUserID { query = query.where("vendor_user_id", .equal, SQLBind(vendorUserID)) }
        if let projectID { query = query.where("project_id", .equal, SQLBind(projectID)) }
        if let vendorID { query = query.where("vendor_id", .equal, SQLBind(vendorID)) }
        if let runID { query = query.where("run_id", .equal, SQLBind(runID)) }
        if let status { query = query.where("status", .equal, SQLBind(status.rawValue)) }
        if let after { query = query.where("id", .greaterThan, SQLBind(after)) }
        return try await query.orderBy("id").limit(limit).all().map(settlement(from:))
    }

    /// The vendors (those named, or all) with confirmed redemptions in the project that no
    /// settlement covers, in id order.
    static func vendorsWithUnsettledRedemptions(
        projectID: UUID, named: [UUID], on sql: any SQLDatabase
    ) async throws -> [UUID] {
        var query = sql.select().distinct().column("vendor_id").from("redemptions")
            .where("project_id", .equal, SQLBind(projectID))
            .where("status", .equal, SQLBind(RedemptionStatus.confirmed.rawValue))
            .where("settlement_id", .is, SQLLiteral.null)
        if !named.isEmpty { query = query.where("vendor_id", .in, SQLBind.group(named)) }
        return try await query.orderBy("vendor_id").all().map { try $0.decode(column: "vendor_id", as: UUID.self) }
    }

    /// A settlement run as stored, without its settlements.
    struct Run {
        var asset: String
        var scale: Int
        var createdAt: Date
        /// When its payout files were written; nil before.
        var filesAt: Date?
    }

    static func run(_ id: UUID, on sql: any SQLDatabase) async throws -> Run? {
        guard
            let row = try await sql.select().columns("project_id", "asset", "scale", "created_at", "files_at")
                .from("settlement_runs").where("id", .equal, SQLBind(id)).first()
        else { return nil }
        return Run(
            asset: try row.decode(column: "asset", as: String.self),
            scale: try row.decode(column: "scale", as: Int.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            filesAt: try row.decode(column: "files_at", as: Date?.self))
    }

    static func insertRun(
        _ id: UUID, projectID: UUID, asset: String, scale: Int, jobID: String, scheduledFor: Date?, by userID: UUID,
        at now: Date, on sql: any SQLDatabase
    ) async throws {
        try await sql.insert(into: "settlement_runs")
            .columns("id", "project_id", "asset", "scale", "job_id", "scheduled_for", "created_by", "created_at")
            .values(
                SQLBind(id), SQLBind(projectID), SQLBind(asset), SQLBind(scale), SQLBind(jobID),
                SQLBind(scheduledFor), SQLBind(userID), SQLBind(now)
            )
            .run()
    }

    /// Gives the vendor's confirmed, unsettled redemptions in the project to `settlementID` by
    /// the update itself (a run started at the same time finds them taken); their amounts and
    /// confirmation times.
    static func claimRedemptions(
        projectID: UUID, vendorID: UUID, for settlementID: UUID, on sql: any SQLDatabase
    ) async throws -> [(amount: Int64, confirmedAt: Date)] {
        try await sql.update("redemptions").set("settlement_id", to: SQLBind(settlementID))
            .where("project_id", .equal, SQLBind(projectID)).where("vendor_id", .equal, SQLBind(vendorID))
            .where("status", .equal, SQLBind(RedemptionStatus.confirmed.rawValue))
            .where("settlement_id", .is, SQLLiteral.null)
            .returning("amount", "confirmed_at").all().map {
                (try $0.decode(column: "amount", as: Int64.self), try $0.decode(column: "confirmed_at", as: Date.self))
            }
    }

    static func insert(_ record: SettlementRecord, on sql: any SQLDatabase) async throws {
        try await sql.insert(into: "settlements")
            .columns(
                "id", "run_id", "project_id", "vendor_id", "vendor_user_id", "vendor_name", "payout_account",
                "amount", "asset", "redemption_count", "period_start", "period_end", "status", "created_by",
                "created_at", "updated_at"
            )
            .values(
                SQLBind(record.id), SQLBind(record.runID), SQLBind(record.projectID), SQLBind(record.vendorID),
                SQLBind(record.vendorUserID), SQLBind(record.vendorName),
                SQLBind(try encodePayout(record.payoutAccount)),
                SQLBind(record.amount), SQLBind(record.asset), SQLBind(record.redemptionCount),
                SQLBind(record.periodStart), SQLBind(record.periodEnd), SQLBind(record.status.rawValue),
                SQLBind(record.createdBy), SQLBind(record.createdAt), SQLBind(record.updatedAt)
            )
            .run()
    }

    /// pending → processing, once its value is in clearing.
    static func markProcessing(_ id: UUID, at now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("settlements").set("status", to: SQLBind(SettlementStatus.processing.rawValue))
            .set("updated_at", to: SQLBind(now)).where("id", .equal, SQLBind(id))
            .where("status", .equal, SQLBind(SettlementStatus.pending.rawValue)).run()
    }

    /// Writes the run's payout files, unless another run of its job wrote them first.
    static func writeFiles(
        _ runID: UUID, csv: String, pain001: String?, at now: Date, on sql: any SQLDatabase
    )
        async throws
    {
        try await sql.update("settlement_runs")
            .set("csv", to: SQLBind(csv)).set("pain001", to: SQLBind(pain001))
            .set("files_at", to: SQLBind(now)).where("id", .equal, SQLBind(runID))
            .where("files_at", .is, SQLLiteral.null).run()
    }

    /// One of the run's payout files: the CSV, or else the pain.001; nil before it is written
    /// (or, for pain.001, when the asset has none).
    static func payoutFile(ofRun runID: UUID, csv: Bool, on sql: any SQLDatabase) async throws -> String? {
        guard
            let run = try await sql.select().columns("csv", "pain001").from("settlement_runs")
                .where("id", .equal, SQLBind(runID)).first()
        else { return nil }
        return try run.decode(column: csv ? "csv" : "pain001", as: String?.self)
    }

    /// Touches the settlement's row, which takes its lock for the transaction, and returns its
    /// stored status.
    static func lockForEnd(_ id: UUID, at now: Date, on sql: any SQLDatabase) async throws -> String? {
        try await sql.update("settlements").set("updated_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).returning("status").first()?.decode(column: "status", as: String.self)
    }

    /// → paid or failed, with the bank's reference and (failed) why.
    static func end(
        _ id: UUID, status: SettlementStatus, reason: String?, reference: String?, at now: Date,
        on sql: any SQLDatabase
    ) async throws {
        try await sql.update("settlements").set("status", to: SQLBind(status.rawValue))
            .set("failure_reason", to: SQLBind(status == .failed ? reason : nil))
            .set("payout_reference", to: SQLBind(reference)).set("completed_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).run()
    }

    /// Frees the settlement's redemptions for the next run.
    static func releaseRedemptions(of id: UUID, on sql: any SQLDatabase) async throws {
        try await sql.update("redemptions").set("settlement_id", to: SQLLiteral.null)
            .where("settlement_id", .equal, SQLBind(id)).run()
    }

    static func encodePayout(_ account: PayoutAccount) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(account), as: UTF8.self)
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
