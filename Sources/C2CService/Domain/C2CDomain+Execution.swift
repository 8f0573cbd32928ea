import C2CAPI
import FluentKit
import Foundation
import Logging
import Messaging
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
        guard let record = try await storedDisbursement(id, on: sql) else {
            throw UnrecoverableJobError("no disbursement \(id.lowercasedString)")
        }
        // A job of an earlier round (reclaimed late, or re-run by hand) leaves the lines to the
        // current round's jobs; one of a finished round has nothing owed.
        guard record.round == round, record.status == .approved || record.status == .processing else {
            return (0, 0)
        }
        if record.status == .approved {
            try await sql.update("disbursements")
                .set("status", to: SQLBind(DisbursementStatus.processing.rawValue))
                .set("updated_at", to: SQLBind(now()))
                .where("id", .equal, SQLBind(id))
                .where("status", .equal, SQLBind(DisbursementStatus.approved.rawValue)).run()
        }
        let lines = try await sql.select().columns("line_number", "beneficiary_id", "amount")
            .from("disbursement_lines").where("disbursement_id", .equal, SQLBind(id))
            .where("line_number", .greaterThanOrEqual, SQLBind(range.lowerBound))
            .where("line_number", .lessThanOrEqual, SQLBind(range.upperBound))
            .where("status", .equal, SQLBind(LineStatus.pending.rawValue))
            .orderBy("line_number").all().map { row in
                (
                    number: try row.decode(column: "line_number", as: Int64.self),
                    beneficiary: try row.decode(column: "beneficiary_id", as: UUID.self),
                    amount: try row.decode(column: "amount", as: Int64.self)
                )
            }
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
                    "disbursement.id": "\(id.lowercasedString)", "lines": "\(range)", "reason": "\(reason)",
                ])
            return (0, failed)
        }
        let paid = zip(lines, results).map { line, result in
            (number: line.number, beneficiary: line.beneficiary, amount: line.amount, transfer: result.id)
        }
        let completed = try await recordPayments(record, paid: paid)
        return (completed, 0)
    }

    /// Marks paid lines completed (only those still pending: a run after a crash counts each
    /// once), moves the counters, publishes the batch, and finishes the disbursement when no
    /// line is left pending, all in one transaction.
    private func recordPayments(
        _ record: DisbursementRecord, paid: [(number: Int64, beneficiary: UUID, amount: Int64, transfer: UUID)]
    ) async throws -> Int64 {
        let now = self.now()
        return try await database.transaction { tx in
            guard let sql = tx as? any SQLDatabase & Database else {
                throw C2CStorageError(description: "not an SQL database")
            }
            var updated: [(number: Int64, beneficiary: UUID, amount: Int64)] = []
            // One statement per 1,000 lines: the values list joins the lines by number.
            for chunk in paid.chunks(of: 1_000) {
                let values = SQLList(
                    chunk.map { line in SQLGroupExpression([SQLBind(line.number), SQLBind(line.transfer)]) })
                // The range keeps the join to this batch's stretch of the (disbursement, status,
                // line) index; without it every pending line of the disbursement is read per batch.
                let first = chunk.map(\.number).min() ?? 0
                let last = chunk.map(\.number).max() ?? 0
                let rows = try await sql.raw(
                    """
                    UPDATE disbursement_lines SET status = \(bind: LineStatus.completed.rawValue),
                        transfer_id = v.transfer, attempts = attempts + 1, last_error = NULL
                    FROM (SELECT column1 AS number, column2 AS transfer FROM (VALUES \(values)) AS x) AS v
                    WHERE disbursement_id = \(bind: record.id) AND line_number = v.number
                        AND status = \(bind: LineStatus.pending.rawValue)
                        AND line_number BETWEEN \(bind: first) AND \(bind: last)
                    RETURNING line_number, beneficiary_id, amount
                    """
                ).all()
                for row in rows {
                    updated.append(
                        (
                            try row.decode(column: "line_number", as: Int64.self),
                            try row.decode(column: "beneficiary_id", as: UUID.self),
                            try row.decode(column: "amount", as: Int64.self)
                        ))
                }
            }
            guard !updated.isEmpty else { return 0 }
            let amount = updated.reduce(Int64(0)) { $0 + $1.amount }
            try await sql.update("disbursements")
                .set("lines_completed", to: SQLRaw("lines_completed + \(updated.count)"))
                .set("amount_completed", to: SQLRaw("amount_completed + \(amount)"))
                .set("updated_at", to: SQLBind(now))
                .where("id", .equal, SQLBind(record.id)).run()
            updated.sort { $0.number < $1.number }
            // Per paid batch; core counts what each beneficiary received from it.
            let disbursed = Rahat_C2c_V1_FundDisbursed.with {
                $0.disbursementID = record.id.lowercasedString
                $0.projectID = record.projectID.lowercasedString
                $0.asset = record.asset
                $0.amount = amount
                $0.payments = updated.map { line in
                    .with {
                        $0.line = line.number
                        $0.beneficiaryID = line.beneficiary.lowercasedString
                        $0.amount = line.amount
                    }
                }
            }
            try await Outbox.append(
                OutboxEvent(
                    topic: Rahat_C2c_V1_FundDisbursed.topic, payload: disbursed, keepingEmpty: ["payments"],
                    aggregateType: "disbursement",
                    aggregateID: record.id.lowercasedString, occurredAt: now),
                on: tx)
            try await finishIfDone(record, at: now, on: sql)
            return Int64(updated.count)
        }
    }

    /// Fails the pending lines in `range`, if `round` is still the disbursement's current one.
    func failPending(
        _ id: UUID, round: Int, lines range: ClosedRange<Int64>, reason: String
    ) async throws -> Int64 {
        guard let record = try await storedDisbursement(id, on: sql), record.round == round,
            record.status == .approved || record.status == .processing
        else { return 0 }
        let numbers = try await sql.select().column("line_number").from("disbursement_lines")
            .where("disbursement_id", .equal, SQLBind(id))
            .where("line_number", .greaterThanOrEqual, SQLBind(range.lowerBound))
            .where("line_number", .lessThanOrEqual, SQLBind(range.upperBound))
            .where("status", .equal, SQLBind(LineStatus.pending.rawValue))
            .all().map { try $0.decode(column: "line_number", as: Int64.self) }
        return try await recordFailure(record, lines: numbers, reason: reason)
    }

    /// Marks lines failed with `reason` (those still pending) and counts them.
    private func recordFailure(_ record: DisbursementRecord, lines: [Int64], reason: String) async throws -> Int64 {
        let now = self.now()
        return try await database.transaction { tx in
            guard let sql = tx as? any SQLDatabase & Database else {
                throw C2CStorageError(description: "not an SQL database")
            }
            var failed = 0
            for chunk in lines.chunks(of: 1_000) {
                failed += try await sql.update("disbursement_lines")
                    .set("status", to: SQLBind(LineStatus.failed.rawValue))
                    .set("attempts", to: SQLRaw("attempts + 1")).set("last_error", to: SQLBind(reason))
                    .where("disbursement_id", .equal, SQLBind(record.id))
                    .where("line_number", .in, SQLBind.group(Array(chunk)))
                    .where("status", .equal, SQLBind(LineStatus.pending.rawValue))
                    .returning("line_number").all().count
            }
            guard failed > 0 else { return 0 }
            try await sql.update("disbursements")
                .set("lines_failed", to: SQLRaw("lines_failed + \(failed)")).set("updated_at", to: SQLBind(now))
                .where("id", .equal, SQLBind(record.id)).run()
            try await finishIfDone(record, at: now, on: sql)
            return Int64(failed)
        }
    }

    /// Outside a transaction: finishes the disbursement if no line is pending.
    private func finishIfDone(_ record: DisbursementRecord) async throws {
        let now = self.now()
        try await database.transaction { tx in
            guard let sql = tx as? any SQLDatabase & Database else {
                throw C2CStorageError(description: "not an SQL database")
            }
            try await sql.update("disbursements").set("updated_at", to: SQLBind(now))
                .where("id", .equal, SQLBind(record.id)).run()
            try await self.finishIfDone(record, at: now, on: sql)
        }
    }

    /// Finishes the disbursement when no line is left pending: completed, or partially failed
    /// when some failed, with its event. Called after the transaction updated the disbursement's
    /// row, which it then holds: of two batches finishing at once, the second sees the first's
    /// lines and finishes it, once.
    private func finishIfDone(
        _ record: DisbursementRecord, at now: Date, on sql: any SQLDatabase & Database
    ) async throws {
        // Whether any line is pending, not how many: one index probe, not a walk over the rest.
        let pending = try await sql.select().column(SQLLiteral.numeric("1"), as: "one").from("disbursement_lines")
            .where("disbursement_id", .equal, SQLBind(record.id))
            .where("status", .equal, SQLBind(LineStatus.pending.rawValue)).limit(1).first()
        guard pending == nil else { return }
        let finished = try await sql.raw(
            """
            UPDATE disbursements SET status = CASE WHEN lines_failed > 0
                    THEN \(bind: DisbursementStatus.partiallyFailed.rawValue)
                    ELSE \(bind: DisbursementStatus.completed.rawValue) END,
                completed_at = \(bind: now)
            WHERE id = \(bind: record.id) AND status IN (\(bind: DisbursementStatus.approved.rawValue), \(bind: DisbursementStatus.processing.rawValue))
            RETURNING status, lines_completed, lines_failed, amount_completed
            """
        ).first()
        guard let finished else { return }
        let status = try finished.decode(column: "status", as: String.self)
        try await Outbox.append(
            // Once per execution round (the first, then each retry), with the totals so far.
            OutboxEvent(
                topic: Rahat_C2c_V1_DisbursementCompleted.topic,
                payload: Rahat_C2c_V1_DisbursementCompleted.with {
                    $0.disbursementID = record.id.lowercasedString
                    $0.projectID = record.projectID.lowercasedString
                    $0.status = status
                    $0.round = Int64(record.round)
                    $0.linesCompleted = try finished.decode(column: "lines_completed", as: Int64.self)
                    $0.linesFailed = try finished.decode(column: "lines_failed", as: Int64.self)
                    $0.amountCompleted = try finished.decode(column: "amount_completed", as: Int64.self)
                    $0.asset = record.asset
                }, aggregateType: "disbursement", aggregateID: record.id.lowercasedString, occurredAt: now),
            on: sql)
        logger.info(
            "disbursement finished",
            metadata: ["disbursement.id": "\(record.id.lowercasedString)", "status": "\(status)"])
    }
}
