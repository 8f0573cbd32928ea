import C2CAPI
import FluentKit
import Foundation
import Logging
import Messaging
import MetricCatalog
import Metrics
import Persistence
import SQLKit
import ServerKit
import SharedModels
import SwiftProtobuf

extension C2CDomain {
    /// How the reason of a line starts when the ledger may have paid it: its job gave up without
    /// an answer. A retry settles it (the ledger answers a paid line with its transfer).
    static let unconfirmed = "not confirmed"

    /// Pays the pending lines in `range`; returns how many this run completed and failed.
    func executeBatch(
        _ id: UUID, round: Int, lines range: ClosedRange<Int64>
    ) async throws -> (completed: Int64, failed: Int64) {
        guard let record = try await DisbursementStore.disbursement(id, on: sql) else {
            throw UnrecoverableJobError("no disbursement \(id.lowercasedString)")
        }
        // A job of an earlier round (reclaimed late, or re-run by hand) leaves the lines to the
        // current round's jobs; one of a finished round has nothing owed.
        guard record.round == round, record.status == .approved || record.status == .processing else {
            return (0, 0)
        }
        if record.status == .approved {
            try await DisbursementStore.markProcessing(id, at: now(), on: sql)
        }
        let lines = try await DisbursementStore.pendingLines(of: id, in: range, on: sql)
        guard !lines.isEmpty else {
            try await finishIfDone(record)
            return (0, 0)
        }
        let project = record.projectID
        let transfers = lines.map { line in
            LedgerTransfer(
                idempotencyKey: "disbursement:\(id.lowercasedString):line:\(line.number)",
                debit: .projectFund(project: project),
                credit: .beneficiaryWallet(project: project, beneficiary: line.beneficiary), amount: line.amount,
                asset: record.asset, kind: record.vouchers ? .allocate : .disburse,
                reference: "disbursement:\(id.lowercasedString)")
        }
        let results: [RecordedTransfer]
        do {
            results = try await clients.transferBatch(transfers)
        } catch let refusal as LedgerRefusal {
            // Refusals are about the lines (the fund, the accounts) and moved nothing: trying
            // again changes nothing until someone acts, so they fail now and can be retried
            // then. Anything else (the ledger unreachable, no answer in time) may or may not have
            // committed, and is the queue's to retry (and the handler's to fail on the last
            // attempt).
            let reason = refusal.isInsufficientFunds ? "insufficient project funds" : refusal.description
            let failed = try await recordFailure(record, lines: lines.map(\.number), reason: reason)
            logger.warning(
                "disbursement batch failed",
                metadata: [
                    "disbursement_id": "\(id.lowercasedString)", "lines": "\(range)", "reason": "\(reason)",
                ])
            return (0, failed)
        }
        let paid = zip(lines, results).map { line, result in
            (number: line.number, beneficiary: line.beneficiary, amount: line.amount, transfer: result.id)
        }
        let (completed, amount, finished) = try await recordPayments(record, paid: paid)
        C2CServiceMetrics.linesPaid.counter(record.asset).increment(by: completed)
        C2CServiceMetrics.disbursedValue.counter(record.asset).increment(by: amount)
        Self.count(finished)
        return (completed, 0)
    }

    /// Marks paid lines completed (only those still pending: a run after a crash counts each
    /// once), moves the counters, publishes the batch, and finishes the disbursement when no
    /// line is left pending, all in one transaction.
    private func recordPayments(
        _ record: DisbursementRecord, paid: [(number: Int64, beneficiary: UUID, amount: Int64, transfer: UUID)]
    ) async throws -> (lines: Int64, amount: Int64, finished: String?) {
        let now = self.now()
        return try await database.sqlTransaction { tx in
            var updated = try await DisbursementStore.completeLines(
                of: record.id, paid: paid.map { ($0.number, $0.transfer) }, on: tx)
            guard !updated.isEmpty else { return (0, 0, nil) }
            let amount = updated.reduce(Int64(0)) { $0 + $1.amount }
            try await DisbursementStore.countCompleted(record.id, lines: updated.count, amount: amount, at: now, on: tx)
            updated.sort { $0.number < $1.number }
            try await Outbox.append(C2CEvents.fundDisbursed(record, payments: updated, amount: amount, at: now), on: tx)
            let finished = try await finishIfDone(record, at: now, on: tx)
            return (Int64(updated.count), amount, finished)
        }
    }

    /// Fails the pending lines in `range`, if `round` is still the disbursement's current one.
    func failPending(
        _ id: UUID, round: Int, lines range: ClosedRange<Int64>, reason: String
    ) async throws -> Int64 {
        guard let record = try await DisbursementStore.disbursement(id, on: sql), record.round == round,
            record.status == .approved || record.status == .processing
        else { return 0 }
        let numbers = try await DisbursementStore.pendingLines(of: id, in: range, on: sql).map(\.number)
        return try await recordFailure(record, lines: numbers, reason: reason)
    }

    /// Marks lines failed with `reason` (those still pending) and counts them.
    private func recordFailure(_ record: DisbursementRecord, lines: [Int64], reason: String) async throws -> Int64 {
        let now = self.now()
        let (failed, finished) = try await database.sqlTransaction { tx -> (Int64, String?) in
            let failed = try await DisbursementStore.failLines(of: record.id, lines, reason: reason, on: tx)
            guard failed > 0 else { return (0, nil) }
            try await DisbursementStore.countFailed(record.id, lines: failed, at: now, on: tx)
            return (Int64(failed), try await finishIfDone(record, at: now, on: tx))
        }
        C2CServiceMetrics.linesFailed.counter(record.asset).increment(by: failed)
        Self.count(finished)
        return failed
    }

    /// Outside a transaction: finishes the disbursement if no line is pending.
    private func finishIfDone(_ record: DisbursementRecord) async throws {
        let now = self.now()
        let finished = try await database.sqlTransaction { tx in
            try await DisbursementStore.touch(record.id, at: now, on: tx)
            return try await self.finishIfDone(record, at: now, on: tx)
        }
        Self.count(finished)
    }

    /// Counts a disbursement that finished, once its transaction committed.
    private static func count(_ finished: String?) {
        guard let finished else { return }
        C2CServiceMetrics.disbursements.counter(finished).increment()
    }

    /// Finishes the disbursement when no line is left pending: completed, or partially failed
    /// when some failed, with its event. Called after the transaction updated the disbursement's
    /// row, which it then holds: of two batches finishing at once, the second sees the first's
    /// lines and finishes it, once.
    @discardableResult
    private func finishIfDone(
        _ record: DisbursementRecord, at now: Date, on sql: any SQLDatabase & Database
    ) async throws -> String? {
        guard try await !DisbursementStore.anyLinePending(of: record.id, on: sql),
            let finished = try await DisbursementStore.finish(record.id, at: now, on: sql)
        else { return nil }
        let status = finished.status
        try await Outbox.append(
            C2CEvents.disbursementCompleted(
                record, status: status, linesCompleted: finished.linesCompleted, linesFailed: finished.linesFailed,
                amountCompleted: finished.amountCompleted, at: now),
            on: sql)
        logger.info(
            "disbursement finished",
            metadata: ["disbursement_id": "\(record.id.lowercasedString)", "status": "\(status)"])
        return status
    }
}
