import FluentKit
import Foundation
import Persistence
import SQLKit
import ServerKit
import SharedModels

/// Disbursements, their approvals and lines as stored, and every statement that reads or
/// changes them: the domain decides what happens, this writes it.
enum DisbursementStore {
    // MARK: Reading

    /// The disbursement with its approvals, or nil.
    static func disbursement(_ id: UUID, on sql: any SQLDatabase) async throws -> DisbursementRecord? {
        guard
            var record = try await sql.select().columns(columns).from("disbursements")
                .where("id", .equal, SQLBind(id)).first().map(disbursement(from:))
        else { return nil }
        record.approvals = try await approvals(of: id, on: sql)
        return record
    }

    /// A page of disbursements in id order, without their approvals.
    static func disbursements(
        projectID: UUID?, status: DisbursementStatus?, after: UUID?, limit: Int, on sql: any SQLDatabase
    ) async throws -> [DisbursementRecord] {
        var query = sql.select().columns(columns).from("disbursements")
        if let projectID { query = query.where("project_id", .equal, SQLBind(projectID)) }
        if let status { query = query.where("status", .equal, SQLBind(status.rawValue)) }
        if let after { query = query.where("id", .greaterThan, SQLBind(after)) }
        return try await query.orderBy("id").limit(limit).all().map(disbursement(from:))
    }

    static func approvals(of id: UUID, on sql: any SQLDatabase) async throws -> [ApprovalRecord] {
        try await sql.select().columns("user_id", "approved", "note", "decided_at").from("disbursement_approvals")
            .where("disbursement_id", .equal, SQLBind(id)).orderBy("decided_at").all().map { row in
                ApprovalRecord(
                    userID: try row.decode(column: "user_id", as: UUID.self),
                    approved: try row.decode(column: "approved", as: Bool.self),
                    note: try row.decode(column: "note", as: String?.self),
                    decidedAt: try row.decode(column: "decided_at", as: Date.self))
            }
    }

    /// The id and request digest of the project's disbursement drafted under `reference`.
    static func referenced(
        projectID: UUID, reference: String, on sql: any SQLDatabase
    ) async throws -> (id: UUID, requestHash: String?)? {
        guard
            let row = try await sql.select().columns("id", "request_hash").from("disbursements")
                .where("project_id", .equal, SQLBind(projectID)).where("reference", .equal, SQLBind(reference))
                .first()
        else { return nil }
        return (try row.decode(column: "id", as: UUID.self), try row.decode(column: "request_hash", as: String?.self))
    }

    /// A page of lines in line order, after line `after`.
    static func lines(
        of id: UUID, status: LineStatus?, after: Int64, limit: Int, on sql: any SQLDatabase
    ) async throws -> [DisbursementLineRecord] {
        var query = sql.select()
            .columns("line_number", "beneficiary_id", "amount", "status", "transfer_id", "attempts", "last_error")
            .from("disbursement_lines").where("disbursement_id", .equal, SQLBind(id))
            .where("line_number", .greaterThan, SQLBind(after))
        if let status { query = query.where("status", .equal, SQLBind(status.rawValue)) }
        return try await query.orderBy("line_number").limit(limit).all().map { row in
            DisbursementLineRecord(
                lineNumber: try row.decode(column: "line_number", as: Int64.self),
                beneficiaryID: try row.decode(column: "beneficiary_id", as: UUID.self),
                amount: try row.decode(column: "amount", as: Int64.self),
                status: try lineStatus(try row.decode(column: "status", as: String.self)),
                transferID: try row.decode(column: "transfer_id", as: UUID?.self),
                attempts: try row.decode(column: "attempts", as: Int.self),
                lastError: try row.decode(column: "last_error", as: String?.self))
        }
    }

    /// The pending lines numbered within `range`, in order.
    static func pendingLines(
        of id: UUID, in range: ClosedRange<Int64>, on sql: any SQLDatabase
    ) async throws -> [(number: Int64, beneficiary: UUID, amount: Int64)] {
        try await sql.select().columns("line_number", "beneficiary_id", "amount")
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
    }

    /// Up to `limit` failed lines numbered after `after`, in order; only those in `named` when
    /// it is small enough to send (the caller filters the rest).
    static func failedLines(
        of id: UUID, after: Int64, named: Set<Int64>, limit: Int, on sql: any SQLDatabase
    ) async throws -> [(number: Int64, amount: Int64, lastError: String?)] {
        var query = sql.select().columns("line_number", "amount", "last_error").from("disbursement_lines")
            .where("disbursement_id", .equal, SQLBind(id))
            .where("status", .equal, SQLBind(LineStatus.failed.rawValue))
            .where("line_number", .greaterThan, SQLBind(after))
        if !named.isEmpty, named.count <= 1_000 {
            query = query.where("line_number", .in, SQLBind.group(Array(named)))
        }
        return try await query.orderBy("line_number").limit(limit).all().map { row in
            (
                try row.decode(column: "line_number", as: Int64.self),
                try row.decode(column: "amount", as: Int64.self),
                try row.decode(column: "last_error", as: String?.self)
            )
        }
    }

    /// The highest line number: lines are numbered densely from 1.
    static func lastLineNumber(of id: UUID, on sql: any SQLDatabase) async throws -> Int64 {
        let row = try await sql.select().column(SQLFunction("MAX", args: SQLIdentifier("line_number")), as: "last")
            .from("disbursement_lines").where("disbursement_id", .equal, SQLBind(id)).first()
        return try row?.decode(column: "last", as: Int64?.self) ?? 0
    }

    /// Whether any line is pending: one index probe, not a walk over the rest.
    static func anyLinePending(of id: UUID, on sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column(SQLLiteral.numeric("1"), as: "one").from("disbursement_lines")
            .where("disbursement_id", .equal, SQLBind(id))
            .where("status", .equal, SQLBind(LineStatus.pending.rawValue)).limit(1).first() != nil
    }

    // MARK: Drafting

    /// Inserts a draft and its lines (numbered from 1) unless the project has a disbursement
    /// under `reference` already; false then, with nothing written.
    static func insertDraft(
        _ record: DisbursementRecord, reference: String?, requestHash: String,
        lines: [(beneficiaryID: UUID, amount: Int64)], on tx: any SQLDatabase & Database
    ) async throws -> Bool {
        let inserted = try await tx.insert(into: "disbursements")
            .columns(
                "id", "project_id", "name", "status", "asset", "transfer_kind", "total", "line_count",
                "amount_per_beneficiary", "group_id", "required_approvals", "approver_ids", "lines_completed",
                "lines_failed", "amount_completed", "round", "job_ids", "created_by", "created_at",
                "updated_at", "reference", "request_hash"
            )
            .values(
                SQLBind(record.id), SQLBind(record.projectID), SQLBind(record.name),
                SQLBind(record.status.rawValue), SQLBind(record.asset),
                SQLBind(record.vouchers ? "allocate" : "disburse"), SQLBind(record.total),
                SQLBind(record.lineCount), SQLBind(record.amountPerBeneficiary), SQLBind(record.groupID),
                SQLBind(0), SQLBind("[]"), SQLBind(Int64(0)), SQLBind(Int64(0)), SQLBind(Int64(0)), SQLBind(0),
                SQLBind("[]"), SQLBind(record.createdBy), SQLBind(record.createdAt), SQLBind(record.updatedAt),
                SQLBind(reference), SQLBind(requestHash)
            )
            .ignoringConflicts(with: ["project_id", "reference"])
            .returning("id").all()
        guard !inserted.isEmpty else { return false }
        // A piece at a time: a million lines held as rows of values at once would be some
        // hundreds of megabytes.
        for chunk in lines.chunks(of: 10_000) {
            var rows = BulkInsert(
                into: "disbursement_lines",
                columns: ["disbursement_id", "line_number", "beneficiary_id", "amount", "status", "attempts"])
            for (index, line) in zip(chunk.indices, chunk) {
                rows.append([
                    .uuid(record.id), .int(index - lines.startIndex + 1), .uuid(line.beneficiaryID),
                    .int(Int(line.amount)), .text(LineStatus.pending.rawValue), .int(0),
                ])
            }
            try await rows.run(on: tx)
        }
        return true
    }

    // MARK: Submitting, cancelling, deciding

    /// draft → pending_approval with the approvers as they are now; nothing if it is no longer a draft.
    static func submit(
        _ id: UUID, approverIDs: [UUID], required: Int, at now: Date, on sql: any SQLDatabase
    ) async throws {
        try await sql.update("disbursements")
            .set("status", to: SQLBind(DisbursementStatus.pendingApproval.rawValue))
            .set("required_approvals", to: SQLBind(required)).set(
                "approver_ids", to: SQLBind(try StoredJSON.encodeIDs(approverIDs))
            )
            .set("submitted_at", to: SQLBind(now)).set("updated_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).where("status", .equal, SQLBind(DisbursementStatus.draft.rawValue))
            .run()
    }

    /// A draft or pending disbursement → cancelled; whether this call cancelled it.
    static func cancel(_ id: UUID, at now: Date, on sql: any SQLDatabase) async throws -> Bool {
        try await !sql.update("disbursements")
            .set("status", to: SQLBind(DisbursementStatus.cancelled.rawValue)).set("updated_at", to: SQLBind(now))
            .set("completed_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id))
            .where(
                "status", .in,
                SQLBind.group([DisbursementStatus.draft.rawValue, DisbursementStatus.pendingApproval.rawValue])
            )
            .returning("id").all().isEmpty
    }

    /// Touches a pending disbursement's row, which takes its lock (PostgreSQL) or the write lock
    /// (SQLite) for the transaction; false when it is no longer pending.
    static func lockPending(_ id: UUID, at now: Date, on sql: any SQLDatabase) async throws -> Bool {
        try await !sql.update("disbursements").set("updated_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id))
            .where("status", .equal, SQLBind(DisbursementStatus.pendingApproval.rawValue))
            .returning("id").all().isEmpty
    }

    /// Records one approver's decision; false when they had decided already.
    static func recordDecision(
        _ id: UUID, by userID: UUID, approve: Bool, note: String?, at now: Date, on sql: any SQLDatabase
    ) async throws -> Bool {
        try await !sql.insert(into: "disbursement_approvals")
            .columns("disbursement_id", "user_id", "approved", "note", "decided_at")
            .values(SQLBind(id), SQLBind(userID), SQLBind(approve), SQLBind(note), SQLBind(now))
            .ignoringConflicts(with: ["disbursement_id", "user_id"])
            .returning("user_id").all().isEmpty
    }

    static func reject(_ id: UUID, at now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("disbursements")
            .set("status", to: SQLBind(DisbursementStatus.rejected.rawValue))
            .set("completed_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).run()
    }

    static func approvalCount(of id: UUID, on sql: any SQLDatabase) async throws -> Int {
        try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "count")
            .from("disbursement_approvals").where("disbursement_id", .equal, SQLBind(id))
            .where("approved", .equal, SQLBind(true)).first()?.decode(column: "count", as: Int.self) ?? 0
    }

    /// → approved, round 1, with the ids of the jobs that execute it.
    static func approve(_ id: UUID, jobIDs: [String], at now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("disbursements")
            .set("status", to: SQLBind(DisbursementStatus.approved.rawValue))
            .set("approved_at", to: SQLBind(now)).set("round", to: SQLBind(1))
            .set("job_ids", to: SQLBind(try StoredJSON.encodeJSON(jobIDs)))
            .where("id", .equal, SQLBind(id)).run()
    }

    // MARK: Executing

    /// partially_failed in round `previous` → approved in round `previous + 1`, taking `failed`
    /// lines back from the failed count; false when another retry of that round won.
    static func startRound(
        _ id: UUID, after previous: Int, jobIDs: [String], failed: Int, at now: Date, on sql: any SQLDatabase
    ) async throws -> Bool {
        try await !sql.update("disbursements")
            .set("status", to: SQLBind(DisbursementStatus.approved.rawValue))
            .set("round", to: SQLBind(previous + 1)).set("job_ids", to: SQLBind(try StoredJSON.encodeJSON(jobIDs)))
            .set("lines_failed", to: SQLRaw("lines_failed - \(failed)"))
            .set("completed_at", to: SQLLiteral.null).set("updated_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).where("round", .equal, SQLBind(previous))
            .where("status", .equal, SQLBind(DisbursementStatus.partiallyFailed.rawValue))
            .returning("id").all().isEmpty
    }

    /// Failed lines → pending, for a new round.
    static func requeueFailed(_ id: UUID, lines: [Int64], on sql: any SQLDatabase) async throws {
        for chunk in lines.chunks(of: 1_000) {
            try await sql.update("disbursement_lines")
                .set("status", to: SQLBind(LineStatus.pending.rawValue)).set("last_error", to: SQLLiteral.null)
                .where("disbursement_id", .equal, SQLBind(id))
                .where("line_number", .in, SQLBind.group(Array(chunk)))
                .where("status", .equal, SQLBind(LineStatus.failed.rawValue))
                .run()
        }
    }

    /// approved → processing, once its first batch runs.
    static func markProcessing(_ id: UUID, at now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("disbursements")
            .set("status", to: SQLBind(DisbursementStatus.processing.rawValue))
            .set("updated_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id))
            .where("status", .equal, SQLBind(DisbursementStatus.approved.rawValue)).run()
    }

    /// Marks paid lines completed with their transfers, only those still pending (a run after a
    /// crash counts each once); the lines it marked, in any order.
    static func completeLines(
        of id: UUID, paid: [(number: Int64, transfer: UUID)], on sql: any SQLDatabase
    ) async throws -> [(number: Int64, beneficiary: UUID, amount: Int64)] {
        var updated: [(number: Int64, beneficiary: UUID, amount: Int64)] = []
        // One statement per 1,000 lines: the values list joins the lines by number.
        for chunk in paid.chunks(of: 1_000) {
            let values = SQLValuesTable(
                "v", columns: ["number", "transfer"],
                rows: chunk.map { line in [SQLBind(line.number), SQLBind(line.transfer)] })
            // The range keeps the join to this batch's stretch of the (disbursement, status,
            // line) index; without it every pending line of the disbursement is read per batch.
            let first = chunk.map(\.number).min() ?? 0
            let last = chunk.map(\.number).max() ?? 0
            let rows = try await sql.raw(
                """
                UPDATE disbursement_lines SET status = \(bind: LineStatus.completed.rawValue),
                    transfer_id = v.transfer, attempts = attempts + 1, last_error = NULL
                FROM \(values)
                WHERE disbursement_id = \(bind: id) AND line_number = v.number
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
        return updated
    }

    /// Adds paid lines to the disbursement's counters.
    static func countCompleted(
        _ id: UUID, lines: Int, amount: Int64, at now: Date, on sql: any SQLDatabase
    ) async throws {
        try await sql.update("disbursements")
            .set("lines_completed", to: SQLRaw("lines_completed + \(lines)"))
            .set("amount_completed", to: SQLRaw("amount_completed + \(amount)"))
            .set("updated_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).run()
    }

    /// Marks lines failed with `reason`, only those still pending; how many it marked.
    static func failLines(
        of id: UUID, _ lines: [Int64], reason: String, on sql: any SQLDatabase
    ) async throws -> Int {
        var failed = 0
        for chunk in lines.chunks(of: 1_000) {
            failed += try await sql.update("disbursement_lines")
                .set("status", to: SQLBind(LineStatus.failed.rawValue))
                .set("attempts", to: SQLRaw("attempts + 1")).set("last_error", to: SQLBind(reason))
                .where("disbursement_id", .equal, SQLBind(id))
                .where("line_number", .in, SQLBind.group(Array(chunk)))
                .where("status", .equal, SQLBind(LineStatus.pending.rawValue))
                .returning("line_number").all().count
        }
        return failed
    }

    /// Adds failed lines to the disbursement's counter.
    static func countFailed(_ id: UUID, lines: Int, at now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("disbursements")
            .set("lines_failed", to: SQLRaw("lines_failed + \(lines)")).set("updated_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).run()
    }

    /// Touches the disbursement's row, which holds it for the rest of the transaction.
    static func touch(_ id: UUID, at now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("disbursements").set("updated_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).run()
    }

    /// The counters of a disbursement when it finished.
    struct Finished {
        var status: String
        var linesCompleted: Int64
        var linesFailed: Int64
        var amountCompleted: Int64
    }

    /// An approved or processing disbursement → completed, or partially failed when some line
    /// failed; nil when it was neither (another batch finished it).
    static func finish(_ id: UUID, at now: Date, on sql: any SQLDatabase) async throws -> Finished? {
        let finished = try await sql.raw(
            """
            UPDATE disbursements SET status = CASE WHEN lines_failed > 0
                    THEN \(bind: DisbursementStatus.partiallyFailed.rawValue)
                    ELSE \(bind: DisbursementStatus.completed.rawValue) END,
                completed_at = \(bind: now)
            WHERE id = \(bind: id) AND status IN (\(bind: DisbursementStatus.approved.rawValue), \(bind: DisbursementStatus.processing.rawValue))
            RETURNING status, lines_completed, lines_failed, amount_completed
            """
        ).first()
        guard let finished else { return nil }
        return Finished(
            status: try finished.decode(column: "status", as: String.self),
            linesCompleted: try finished.decode(column: "lines_completed", as: Int64.self),
            linesFailed: try finished.decode(column: "lines_failed", as: Int64.self),
            amountCompleted: try finished.decode(column: "amount_completed", as: Int64.self))
    }

    // MARK: Rows

    static let columns = [
        "id", "project_id", "name", "status", "asset", "transfer_kind", "total", "line_count",
        "amount_per_beneficiary", "group_id", "required_approvals", "approver_ids", "lines_completed", "lines_failed",
        "amount_completed", "round", "job_ids", "created_by", "created_at", "updated_at", "submitted_at",
        "approved_at", "completed_at", "reference",
    ].map { SQLIdentifier($0) as any SQLExpression }

    static func disbursement(from row: any SQLRow) throws -> DisbursementRecord {
        let statusText = try row.decode(column: "status", as: String.self)
        guard let status = DisbursementStatus(rawValue: statusText) else {
            throw C2CStorageError(description: "disbursement status '\(statusText)'")
        }
        return DisbursementRecord(
            id: try row.decode(column: "id", as: UUID.self),
            projectID: try row.decode(column: "project_id", as: UUID.self),
            name: try row.decode(column: "name", as: String.self),
            status: status,
            asset: try row.decode(column: "asset", as: String.self),
            vouchers: try row.decode(column: "transfer_kind", as: String.self) == "allocate",
            total: try row.decode(column: "total", as: Int64.self),
            lineCount: try row.decode(column: "line_count", as: Int64.self),
            amountPerBeneficiary: try row.decode(column: "amount_per_beneficiary", as: Int64?.self),
            groupID: try row.decode(column: "group_id", as: UUID?.self),
            requiredApprovals: try row.decode(column: "required_approvals", as: Int.self),
            approverIDs: try StoredJSON.decodeIDs(try row.decode(column: "approver_ids", as: String.self)),
            linesCompleted: try row.decode(column: "lines_completed", as: Int64.self),
            linesFailed: try row.decode(column: "lines_failed", as: Int64.self),
            amountCompleted: try row.decode(column: "amount_completed", as: Int64.self),
            round: try row.decode(column: "round", as: Int.self),
            jobIDs: try JSONDecoder().decode(
                [String].self, from: Data(try row.decode(column: "job_ids", as: String.self).utf8)),
            createdBy: try row.decode(column: "created_by", as: UUID.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            submittedAt: try row.decode(column: "submitted_at", as: Date?.self),
            approvedAt: try row.decode(column: "approved_at", as: Date?.self),
            completedAt: try row.decode(column: "completed_at", as: Date?.self),
            reference: try row.decode(column: "reference", as: String?.self))
    }

    static func lineStatus(_ text: String) throws -> LineStatus {
        guard let status = LineStatus(rawValue: text) else {
            throw C2CStorageError(description: "line status '\(text)'")
        }
        return status
    }
}
