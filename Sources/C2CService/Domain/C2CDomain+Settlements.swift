import C2CAPI
import FluentKit
import Foundation
import JobQueue
import Logging
import Messaging
import Persistence
import SQLKit
import ServerKit
import SharedModels
import SwiftProtobuf

/// pending → processing → paid | failed.
enum SettlementStatus: String, Sendable, CaseIterable {
    case pending, processing, paid, failed
}

/// What one vendor is paid for its redemptions in one run.
struct SettlementRecord: Sendable, Equatable {
    var id: UUID
    var runID: UUID
    var projectID: UUID
    var vendorID: UUID
    var vendorUserID: UUID
    var vendorName: String
    var payoutAccount: PayoutAccount
    var amount: Int64
    var asset: String
    var redemptionCount: Int64
    var periodStart: Date
    var periodEnd: Date
    var status: SettlementStatus
    var payoutReference: String?
    var failureReason: String?
    var createdBy: UUID
    var createdAt: Date
    var updatedAt: Date
    var completedAt: Date?

    var endToEndID: String { PayoutFiles.compact(id) }
}

/// A settlement run: its settlements and the job that carries them out.
struct SettlementRunRecord: Sendable, Equatable {
    var id: UUID
    var projectID: UUID
    var jobID: String
    var settlements: [SettlementRecord]
    var createdAt: Date
}

/// A payout file as the bank gets it.
struct PayoutFileRecord: Sendable, Equatable {
    enum Format: Sendable { case csv, pain001 }
    var filename: String
    var contentType: String
    var content: String
}

extension C2CDomain {
    // MARK: Starting a run

    /// Gathers each vendor's confirmed, unsettled redemptions into one settlement and queues the
    /// run's job, all in one transaction: a redemption is in at most one live settlement.
    func createSettlements(
        projectID text: String, vendorIDs: [String], by caller: Principal
    ) async throws -> SettlementRunRecord {
        // The list's size before any work on its entries.
        guard vendorIDs.count <= 1_000 else {
            throw C2CError.invalidInput([FieldViolation(field: "vendorIds", reason: "must name at most 1000 vendors")])
        }
        var violations: [FieldViolation] = []
        let projectID = UUID(text, field: "projectId", into: &violations)
        var named: [UUID] = []
        for (index, text) in vendorIDs.enumerated() {
            guard let id = UUID(text, field: "vendorIds[\(index)]", into: &violations) else { continue }
            named.append(id)
        }
        guard violations.isEmpty, let projectID else { throw C2CError.invalidInput(violations) }
        try caller.require(Permission(.settlement, .create, projectID: projectID.lowercasedString))
        let project = try await clients.project(projectID)
        let (vendors, withoutAccount) = try await vendorsToSettle(projectID: projectID, named: named)
        if let vendor = withoutAccount.first { throw C2CError.vendorWithoutPayoutAccount(name: vendor.name) }
        guard !vendors.isEmpty else { throw C2CError.nothingToSettle }

        let runID = UUID.v7()
        let now = self.now()
        let job = Self.settlementRunJob(runID, owner: caller.userID)
        let userID = caller.userID
        let settlements = try await database.transaction { tx -> [SettlementRecord] in
            guard let sql = tx as? any SQLDatabase else { throw C2CStorageError(description: "not an SQL database") }
            let written = try await Self.insertRun(
                runID, project: project, vendors: vendors, job: job, by: userID, at: now, on: sql)
            guard !written.isEmpty else { throw C2CError.nothingToSettle }
            try await Outbox.append([.jobRequested(job, at: now)], on: tx)
            return written
        }
        logger.info(
            "settlement run started",
            metadata: [
                "run.id": "\(runID.lowercasedString)", "project.id": "\(projectID.lowercasedString)",
                "vendors": "\(settlements.count)",
            ])
        return SettlementRunRecord(
            id: runID, projectID: projectID, jobID: job.id, settlements: settlements, createdAt: now)
    }

    /// The vendors (those named, or all) with confirmed redemptions no settlement covers: those
    /// a payout can go to, and those core holds no payout account for. `skippingMissing` leaves
    /// out, with a warning, a vendor core no longer has, instead of refusing.
    func vendorsToSettle(
        projectID: UUID, named: [UUID], skippingMissing: Bool = false
    ) async throws -> (payable: [C2CClients.VendorFacts], withoutAccount: [C2CClients.VendorFacts]) {
        var query = sql.select().distinct().column("vendor_id").from("redemptions")
            .where("project_id", .equal, SQLBind(projectID))
            .where("status", .equal, SQLBind(RedemptionStatus.confirmed.rawValue))
            .where("settlement_id", .is, SQLLiteral.null)
        if !named.isEmpty { query = query.where("vendor_id", .in, SQLBind.group(named)) }
        let vendorIDs = try await query.orderBy("vendor_id").all().map {
            try $0.decode(column: "vendor_id", as: UUID.self)
        }
        var payable: [C2CClients.VendorFacts] = []
        var withoutAccount: [C2CClients.VendorFacts] = []
        for id in vendorIDs {
            let vendor: C2CClients.VendorFacts
            do {
                vendor = try await clients.vendor(id)
            } catch C2CError.vendorNotFound where skippingMissing {
                logger.warning(
                    "settlement skips a vendor core no longer has",
                    metadata: ["project.id": "\(projectID.lowercasedString)", "vendor.id": "\(id.lowercasedString)"])
                continue
            }
            if vendor.payout == nil { withoutAccount.append(vendor) } else { payable.append(vendor) }
        }
        return (payable, withoutAccount)
    }

    /// Writes a run and one settlement per vendor, each claiming the vendor's confirmed, unsettled
    /// redemptions by the update itself: a run started at the same time finds them taken. Returns
    /// the settlements written, none when other runs took everything first.
    static func insertRun(
        _ runID: UUID, project: C2CClients.ProjectFacts, vendors: [C2CClients.VendorFacts], job: JobRequest,
        scheduledFor: Date? = nil, by userID: UUID, at now: Date, on sql: any SQLDatabase
    ) async throws -> [SettlementRecord] {
        let projectID = project.id
        try await sql.insert(into: "settlement_runs")
            .columns("id", "project_id", "asset", "scale", "job_id", "scheduled_for", "created_by", "created_at")
            .values(
                SQLBind(runID), SQLBind(projectID), SQLBind(project.asset), SQLBind(project.scale), SQLBind(job.id),
                SQLBind(scheduledFor), SQLBind(userID), SQLBind(now)
            )
            .run()
        var written: [SettlementRecord] = []
        for vendor in vendors {
            guard let payout = vendor.payout else { continue }
            let id = UUID.v7()
            let claimed = try await sql.update("redemptions").set("settlement_id", to: SQLBind(id))
                .where("project_id", .equal, SQLBind(projectID)).where("vendor_id", .equal, SQLBind(vendor.id))
                .where("status", .equal, SQLBind(RedemptionStatus.confirmed.rawValue))
                .where("settlement_id", .is, SQLLiteral.null)
                .returning("amount", "confirmed_at").all()
            let confirmed = try claimed.map { try $0.decode(column: "confirmed_at", as: Date.self) }
            guard let first = confirmed.min(), let last = confirmed.max() else { continue }
            let record = SettlementRecord(
                id: id, runID: runID, projectID: projectID, vendorID: vendor.id, vendorUserID: vendor.userID,
                vendorName: vendor.name, payoutAccount: payout,
                amount: try claimed.reduce(Int64(0)) { $0 + (try $1.decode(column: "amount", as: Int64.self)) },
                asset: project.asset, redemptionCount: Int64(claimed.count), periodStart: first, periodEnd: last,
                status: .pending, createdBy: userID, createdAt: now, updatedAt: now)
            try await sql.insert(into: "settlements")
                .columns(
                    "id", "run_id", "project_id", "vendor_id", "vendor_user_id", "vendor_name", "payout_account",
                    "amount", "asset", "redemption_count", "period_start", "period_end", "status", "created_by",
                    "created_at", "updated_at"
                )
                .values(
                    SQLBind(id), SQLBind(runID), SQLBind(projectID), SQLBind(vendor.id), SQLBind(vendor.userID),
                    SQLBind(vendor.name), SQLBind(try Self.encodePayout(payout)), SQLBind(record.amount),
                    SQLBind(record.asset), SQLBind(record.redemptionCount), SQLBind(first), SQLBind(last),
                    SQLBind(SettlementStatus.pending.rawValue), SQLBind(userID), SQLBind(now), SQLBind(now)
                )
                .run()
            written.append(record)
        }
        return written
    }

    // MARK: Running it

    /// Returns how many of the run's settlements are in clearing (or beyond) and how many failed.
    @discardableResult
    func executeRun(_ runID: UUID) async throws -> (processing: Int, failed: Int) {
        guard
            let run = try await sql.select().columns("project_id", "asset", "scale", "created_at", "files_at")
                .from("settlement_runs").where("id", .equal, SQLBind(runID)).first()
        else { throw UnrecoverableJobError("no settlement run \(runID.lowercasedString)") }
        let settlements = try await sql.select().columns(Self.settlementColumns).from("settlements")
            .where("run_id", .equal, SQLBind(runID)).orderBy("id").all().map(Self.settlement(from:))
        for settlement in settlements where settlement.status == .pending {
            do {
                _ = try await clients.transfer(Self.settlementTransfer(settlement, .clear))
            } catch let refusal as LedgerRefusal {
                // A refusal (nothing moved, and asking again changes nothing): the settlement fails
                // and its redemptions wait for another run.
                let reason =
                    refusal.isInsufficientFunds
                    ? "the vendor's account holds less than its redemptions" : refusal.description
                try await finish(settlement, status: .failed, reason: reason, reference: nil, releasing: true)
                logger.warning(
                    "settlement refused by the ledger",
                    metadata: ["settlement.id": "\(settlement.id.lowercasedString)", "reason": "\(reason)"])
                continue
            }
            let now = self.now()
            try await sql.update("settlements").set("status", to: SQLBind(SettlementStatus.processing.rawValue))
                .set("updated_at", to: SQLBind(now)).where("id", .equal, SQLBind(settlement.id))
                .where("status", .equal, SQLBind(SettlementStatus.pending.rawValue)).run()
        }
        // The file exists before the bank can answer any of them: failed ones here are the ledger's
        // refusals above, left out.
        let current = try await sql.select().columns(Self.settlementColumns).from("settlements")
            .where("run_id", .equal, SQLBind(runID))
            .where(
                "status", .in,
                SQLBind.group([SettlementStatus.processing.rawValue, SettlementStatus.paid.rawValue])
            )
            .orderBy("id").all().map(Self.settlement(from:))
        let failed = settlements.count - current.count
        // Written once; a run every settlement of which the ledger refused pays no one: no file.
        guard try run.decode(column: "files_at", as: Date?.self) == nil, !current.isEmpty else {
            return (current.count, failed)
        }
        let lines = current.map { settlement in
            PayoutLine(
                settlementID: settlement.id, vendorID: settlement.vendorID, vendorName: settlement.vendorName,
                account: settlement.payoutAccount, amount: settlement.amount,
                redemptionCount: settlement.redemptionCount, periodStart: settlement.periodStart,
                periodEnd: settlement.periodEnd)
        }
        let asset = try run.decode(column: "asset", as: String.self)
        let scale = try run.decode(column: "scale", as: Int.self)
        let createdAt = try run.decode(column: "created_at", as: Date.self)
        try await sql.update("settlement_runs")
            .set("csv", to: SQLBind(PayoutFiles.csv(lines, asset: asset, scale: scale)))
            // Assets that are not ISO 4217 currencies (vouchers, tokens) get the CSV only.
            .set(
                "pain001",
                to: SQLBind(
                    PayoutFiles.painCarries(asset: asset, scale: scale)
                        ? PayoutFiles.pain001(
                            runID: runID, createdAt: createdAt, debtor: payoutDebtor, lines: lines, asset: asset,
                            scale: scale) : nil)
            )
            .set("files_at", to: SQLBind(now())).where("id", .equal, SQLBind(runID))
            .where("files_at", .is, SQLLiteral.null).run()
        logger.info(
            "settlement run processed; payout files written",
            metadata: ["run.id": "\(runID.lowercasedString)", "settlements": "\(current.count)"])
        return (current.count, failed)
    }

    /// The moves of one settlement: into clearing when the run is processed, then out to the
    /// bank when it paid, or back to the vendor when it did not.
    enum SettlementLeg {
        case clear, payout, giveBack
    }

    static func settlementTransfer(_ settlement: SettlementRecord, _ leg: SettlementLeg) -> LedgerTransfer {
        let project = settlement.projectID
        let vendor = LedgerAccount.vendor(project: project, vendor: settlement.vendorID)
        let clearing = LedgerAccount.settlementClearing(project: project)
        let (name, debit, credit, kind): (String, LedgerAccount, LedgerAccount, LedgerTransfer.Kind) =
            switch leg {
            case .clear: ("clear", vendor, clearing, .settle)
            case .payout: ("payout", clearing, .externalPayout(project: project), .settle)
            case .giveBack: ("return", clearing, vendor, .reverse)
            }
        return LedgerTransfer(
            idempotencyKey: "settlement:\(settlement.id.lowercasedString):\(name)", debit: debit, credit: credit,
            amount: settlement.amount, asset: settlement.asset, kind: kind,
            reference: "settlement:\(settlement.id.lowercasedString)")
    }

    // MARK: The bank's answer

    /// Paid: clearing → external payout. Failed: clearing → the vendor's account, and its
    /// redemptions are free for the next run. Under the row's lock, like a redemption's code.
    func confirmSettlement(
        _ text: String, paid: Bool, reference rawReference: String?, reason rawReason: String?, by caller: Principal
    ) async throws -> SettlementRecord {
        let id = try parseID(text, field: "id")
        let reference = rawReference?.trimmingCharacters(in: .whitespacesAndNewlines)
        let reason = rawReason?.trimmingCharacters(in: .whitespacesAndNewlines)
        var violations: [FieldViolation] = []
        if let reference, reference.isEmpty || reference.count > 100 {
            violations.append(FieldViolation(field: "payoutReference", reason: "must be 1 to 100 characters"))
        }
        if !paid, reason?.isEmpty ?? true {
            violations.append(FieldViolation(field: "reason", reason: "say why the bank did not pay"))
        } else if let reason, reason.count > 1_000 {
            violations.append(FieldViolation(field: "reason", reason: "must be at most 1000 characters"))
        }
        guard violations.isEmpty else { throw C2CError.invalidInput(violations) }
        let record = try await storedSettlement(id)
        try caller.require(Permission(.settlement, .update, projectID: record.projectID.lowercasedString))
        let wanted: SettlementStatus = paid ? .paid : .failed
        if record.status == wanted { return record }
        guard record.status == .processing else {
            throw C2CError.settlementState(status: record.status.rawValue, action: paid ? "paid" : "failed")
        }
        try await finish(record, status: wanted, reason: reason, reference: reference, releasing: !paid)
        let current = try await storedSettlement(id)
        guard current.status == wanted else {
            throw C2CError.settlementState(status: current.status.rawValue, action: paid ? "paid" : "failed")
        }
        return current
    }

    /// Ends a settlement as paid or failed, moving the value it holds in clearing (when it got
    /// there) and announcing it, in one transaction that first takes the row.
    private func finish(
        _ record: SettlementRecord, status: SettlementStatus, reason: String?, reference: String?, releasing: Bool
    ) async throws {
        let clients = self.clients
        let now = self.now()
        try await database.transaction { tx in
            guard let sql = tx as? any SQLDatabase else { throw C2CStorageError(description: "not an SQL database") }
            guard
                let row = try await sql.update("settlements").set("updated_at", to: SQLBind(now))
                    .where("id", .equal, SQLBind(record.id)).returning("status").first()
            else { throw C2CError.settlementNotFound }
            let current = try row.decode(column: "status", as: String.self)
            // Another request ended it meanwhile; the caller rereads and compares.
            guard current == SettlementStatus.processing.rawValue || current == SettlementStatus.pending.rawValue
            else { return }
            if current == SettlementStatus.processing.rawValue {
                let payout = Self.settlementTransfer(record, .payout)
                let giveBack = Self.settlementTransfer(record, .giveBack)
                // The other answer's move may have committed in the ledger with its record here
                // lost: then this answer contradicts the books, and is refused rather than making
                // both moves.
                let recorded = try await clients.recordedTransfers(
                    projectID: record.projectID, reference: payout.reference)
                let opposite = status == .paid ? giveBack : payout
                if recorded[opposite.idempotencyKey] != nil {
                    throw C2CError.settlementState(
                        status: status == .paid ? "failed in the ledger" : "paid in the ledger",
                        action: status.rawValue)
                }
                _ = try await clients.transfer(status == .paid ? payout : giveBack)
            }
            try await sql.update("settlements").set("status", to: SQLBind(status.rawValue))
                .set("failure_reason", to: SQLBind(status == .failed ? reason : nil))
                .set("payout_reference", to: SQLBind(reference)).set("completed_at", to: SQLBind(now))
                .where("id", .equal, SQLBind(record.id)).run()
            if releasing {
                try await sql.update("redemptions").set("settlement_id", to: SQLLiteral.null)
                    .where("settlement_id", .equal, SQLBind(record.id)).run()
            }
            try await Outbox.append(
                [
                    try OutboxEvent(
                        topic: Rahat_C2c_V1_SettlementCompleted.topic,
                        payload: Rahat_C2c_V1_SettlementCompleted.with {
                            $0.settlementID = record.id.lowercasedString
                            $0.runID = record.runID.lowercasedString
                            $0.projectID = record.projectID.lowercasedString
                            $0.vendorID = record.vendorID.lowercasedString
                            $0.status = status.rawValue
                            $0.amount = record.amount
                            $0.asset = record.asset
                            $0.redemptions = record.redemptionCount
                        }, aggregateType: "settlement", aggregateID: record.id.lowercasedString, occurredAt: now)
                ], on: tx)
        }
        logger.info(
            "settlement ended",
            metadata: ["settlement.id": "\(record.id.lowercasedString)", "status": "\(status.rawValue)"])
    }

    // MARK: Reading

    func settlement(_ text: String, by caller: Principal) async throws -> SettlementRecord {
        let id = try parseID(text, field: "id")
        try Self.requireReadAnywhere(.settlement, by: caller)
        let record = try await storedSettlement(id)
        try Self.requireVendorRecordRead(
            .settlement, projectID: record.projectID, vendorUserID: record.vendorUserID, by: caller,
            otherwise: .settlementNotFound)
        return record
    }

    func settlements(
        projectID: String?, vendorID: String?, runID: String?, status: SettlementStatus?, limit: Int, cursor: String?,
        by caller: Principal
    ) async throws -> ([SettlementRecord], String?) {
        let (ids, page) = try Self.listFilters(
            [(projectID, "projectId"), (vendorID, "vendorId"), (runID, "runId")], limit: limit, cursor: cursor)
        let (project, vendor, run) = (ids[0], ids[1], ids[2])
        var query = try Self.vendorRecords(
            sql.select().columns(Self.settlementColumns).from("settlements"), .settlement,
            scope: project?.lowercasedString, by: caller)
        if let project { query = query.where("project_id", .equal, SQLBind(project)) }
        if let vendor { query = query.where("vendor_id", .equal, SQLBind(vendor)) }
        if let run { query = query.where("run_id", .equal, SQLBind(run)) }
        if let status { query = query.where("status", .equal, SQLBind(status.rawValue)) }
        if let after = page.after { query = query.where("id", .greaterThan, SQLBind(after)) }
        let rows = try await query.orderBy("id").limit(page.limit + 1).all().map(Self.settlement(from:))
        let (shown, next) = page.page(of: rows) { $0.id }
        return (shown, next)
    }

    /// The payout file of the run `settlement` is in. Needs `settlement:read` on the project and,
    /// since the file names every vendor of the run, `vendor:read` too.
    func payoutFile(
        settlement text: String, format: PayoutFileRecord.Format, by caller: Principal
    ) async throws -> PayoutFileRecord {
        let id = try parseID(text, field: "settlementId")
        try Self.requireReadAnywhere(.settlement, by: caller)
        let record = try await storedSettlement(id)
        let scope = record.projectID.lowercasedString
        try Self.requireReach(
            caller.permissions.allows(Permission(.settlement, .read, projectID: scope)), otherwise: .settlementNotFound)
        try caller.require(Permission(.vendor, .read, projectID: scope))
        guard
            let run = try await sql.select().columns("csv", "pain001").from("settlement_runs")
                .where("id", .equal, SQLBind(record.runID)).first(),
            let content = try run.decode(column: format == .csv ? "csv" : "pain001", as: String?.self)
        else { throw C2CError.payoutFileNotReady }
        let base = "rahat-settlement-\(PayoutFiles.compact(record.runID))"
        return switch format {
        case .csv: PayoutFileRecord(filename: base + ".csv", contentType: "text/csv; charset=utf-8", content: content)
        case .pain001:
            PayoutFileRecord(filename: base + ".pain001.xml", contentType: "application/xml", content: content)
        }
    }

    static func encodePayout(_ account: PayoutAccount) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(account), as: UTF8.self)
    }
}
