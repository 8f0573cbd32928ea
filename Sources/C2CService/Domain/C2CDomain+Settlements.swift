import C2CAPI
import FluentKit
import Foundation
import JobQueue
import Logging
import Messaging
import MetricCatalog
import Metrics
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
        let settlements = try await database.sqlTransaction { tx -> [SettlementRecord] in
            let written = try await Self.insertRun(
                runID, project: project, vendors: vendors, job: job, by: userID, at: now, on: tx)
            guard !written.isEmpty else { throw C2CError.nothingToSettle }
            try await Outbox.append([.jobRequested(job, at: now)], on: tx)
            return written
        }
        C2CServiceMetrics.settlements.counter("requested").increment(by: settlements.count)
        logger.info(
            "settlement run started",
            metadata: [
                "run_id": "\(runID.lowercasedString)", "project_id": "\(projectID.lowercasedString)",
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
        let vendorIDs = try await SettlementStore.vendorsWithUnsettledRedemptions(
            projectID: projectID, named: named, on: sql)
        var payable: [C2CClients.VendorFacts] = []
        var withoutAccount: [C2CClients.VendorFacts] = []
        for id in vendorIDs {
            let vendor: C2CClients.VendorFacts
            do {
                vendor = try await clients.vendor(id)
            } catch C2CError.vendorNotFound where skippingMissing {
                logger.warning(
                    "settlement skips a vendor core no longer has",
                    metadata: ["project_id": "\(projectID.lowercasedString)", "vendor_id": "\(id.lowercasedString)"])
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
        try await SettlementStore.insertRun(
            runID, projectID: projectID, asset: project.asset, scale: project.scale, jobID: job.id,
            scheduledFor: scheduledFor, by: userID, at: now, on: sql)
        var written: [SettlementRecord] = []
        for vendor in vendors {
            guard let payout = vendor.payout else { continue }
            let id = UUID.v7()
            let claimed = try await SettlementStore.claimRedemptions(
                projectID: projectID, vendorID: vendor.id, for: id, on: sql)
            let confirmed = claimed.map(\.confirmedAt)
            guard let first = confirmed.min(), let last = confirmed.max() else { continue }
            let record = SettlementRecord(
                id: id, runID: runID, projectID: projectID, vendorID: vendor.id, vendorUserID: vendor.userID,
                vendorName: vendor.name, payoutAccount: payout,
                amount: claimed.reduce(Int64(0)) { $0 + $1.amount },
                asset: project.asset, redemptionCount: Int64(claimed.count), periodStart: first, periodEnd: last,
                status: .pending, createdBy: userID, createdAt: now, updatedAt: now)
            try await SettlementStore.insert(record, on: sql)
            written.append(record)
        }
        return written
    }

    // MARK: Running it

    /// Returns how many of the run's settlements are in clearing (or beyond) and how many failed.
    @discardableResult
    func executeRun(_ runID: UUID) async throws -> (processing: Int, failed: Int) {
        guard let run = try await SettlementStore.run(runID, on: sql) else {
            throw UnrecoverableJobError("no settlement run \(runID.lowercasedString)")
        }
        let settlements = try await SettlementStore.settlements(ofRun: runID, on: sql)
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
                    metadata: ["settlement_id": "\(settlement.id.lowercasedString)", "reason": "\(reason)"])
                continue
            }
            let now = self.now()
            try await SettlementStore.markProcessing(settlement.id, at: now, on: sql)
        }
        // The file exists before the bank can answer any of them: failed ones here are the ledger's
        // refusals above, left out.
        let current = try await SettlementStore.settlements(ofRun: runID, in: [.processing, .paid], on: sql)
        let failed = settlements.count - current.count
        // Written once; a run every settlement of which the ledger refused pays no one: no file.
        guard run.filesAt == nil, !current.isEmpty else {
            return (current.count, failed)
        }
        let lines = current.map { settlement in
            PayoutLine(
                settlementID: settlement.id, vendorID: settlement.vendorID, vendorName: settlement.vendorName,
                account: settlement.payoutAccount, amount: settlement.amount,
                redemptionCount: settlement.redemptionCount, periodStart: settlement.periodStart,
                periodEnd: settlement.periodEnd)
        }
        let (asset, scale) = (run.asset, run.scale)
        // Assets that are not ISO 4217 currencies (vouchers, tokens) get the CSV only.
        let pain001 =
            PayoutFiles.painCarries(asset: asset, scale: scale)
            ? PayoutFiles.pain001(
                runID: runID, createdAt: run.createdAt, debtor: payoutDebtor, lines: lines, asset: asset, scale: scale)
            : nil
        try await SettlementStore.writeFiles(
            runID, csv: PayoutFiles.csv(lines, asset: asset, scale: scale), pain001: pain001, at: now(), on: sql)
        logger.info(
            "settlement run processed; payout files written",
            metadata: ["run_id": "\(runID.lowercasedString)", "settlements": "\(current.count)"])
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
        let ended = try await database.sqlTransaction { tx -> Bool in
            guard let current = try await SettlementStore.lockForEnd(record.id, at: now, on: tx) else {
                throw C2CError.settlementNotFound
            }
            // Another request ended it meanwhile; the caller rereads and compares.
            guard current == SettlementStatus.processing.rawValue || current == SettlementStatus.pending.rawValue
            else { return false }
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
            try await SettlementStore.end(
                record.id, status: status, reason: reason, reference: reference, at: now, on: tx)
            if releasing { try await SettlementStore.releaseRedemptions(of: record.id, on: tx) }
            try await Outbox.append(C2CEvents.settlementCompleted(record, status: status, at: now), on: tx)
            return true
        }
        guard ended else { return }
        C2CServiceMetrics.settlements.counter(status.rawValue).increment()
        if status == .paid { C2CServiceMetrics.settledValue.counter(record.asset).increment(by: record.amount) }
        logger.info(
            "settlement ended",
            metadata: ["settlement_id": "\(record.id.lowercasedString)", "status": "\(status.rawValue)"])
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
        let ownOnly = try Self.ownVendorRowsOnly(.settlement, scope: project?.lowercasedString, by: caller)
        let rows = try await database.replicaRead { sql in
            try await SettlementStore.settlements(
                projectID: project, vendorID: vendor, runID: run, vendorUserID: ownOnly, status: status,
                after: page.after, limit: page.limit + 1, on: sql)
        }
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
        guard let content = try await SettlementStore.payoutFile(ofRun: record.runID, csv: format == .csv, on: sql)
        else { throw C2CError.payoutFileNotReady }
        let base = "rahat-settlement-\(PayoutFiles.compact(record.runID))"
        return switch format {
        case .csv: PayoutFileRecord(filename: base + ".csv", contentType: "text/csv; charset=utf-8", content: content)
        case .pain001:
            PayoutFileRecord(filename: base + ".pain001.xml", contentType: "application/xml", content: content)
        }
    }

    private func storedSettlement(_ id: UUID) async throws -> SettlementRecord {
        guard let record = try await SettlementStore.settlement(id, on: sql) else { throw C2CError.settlementNotFound }
        return record
    }
}
