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

extension C2CDomain {
    // MARK: Submitting and cancelling

    /// draft → pending_approval, with the project's approvers as they are now.
    func submit(_ text: String, by caller: Principal) async throws -> DisbursementRecord {
        let record = try await disbursement(text, by: caller)
        try caller.require(Permission(.disbursement, .update, projectID: record.projectID.lowercasedString))
        if record.status == .pendingApproval { return record }
        guard record.status == .draft else {
            throw C2CError.disbursementState(status: record.status.phrase, action: "submitted")
        }
        guard let approvers = try await FundStore.approvers(of: record.projectID, on: sql), !approvers.userIDs.isEmpty
        else {
            throw C2CError.noApprovers
        }
        // The creator may not approve: without them, enough approvers must remain.
        let eligible = approvers.userIDs.filter { $0 != record.createdBy }.count
        guard eligible >= approvers.required else {
            throw C2CError.tooFewApprovers(eligible: eligible, required: approvers.required)
        }
        try await requireOpen(record.projectID)
        let now = self.now()
        // Conditional on the draft state: of two submissions at once, one applies, both answer it.
        try await DisbursementStore.submit(
            record.id, approverIDs: approvers.userIDs, required: approvers.required, at: now, on: sql)
        // Cancelled meanwhile: the submission did not happen.
        let current = try await reread(record.id)
        guard current.status == .pendingApproval else {
            throw C2CError.disbursementState(status: current.status.phrase, action: "submitted")
        }
        return current
    }

    /// Refuses a closed or inactive project: its fund pays nothing more.
    /// Throws unless the project is active: not a draft, not closed.
    func requireOpen(_ projectID: UUID) async throws {
        let project = try await clients.project(projectID)
        guard !project.closed else { throw C2CError.projectClosed }
        guard project.active else { throw C2CError.projectNotActive }
    }

    /// A draft or a pending disbursement → cancelled.
    func cancel(_ text: String, by caller: Principal) async throws -> DisbursementRecord {
        let record = try await disbursement(text, by: caller)
        try caller.require(Permission(.disbursement, .update, projectID: record.projectID.lowercasedString))
        if record.status == .cancelled { return record }
        let now = self.now()
        let cancelled = try await DisbursementStore.cancel(record.id, at: now, on: sql)
        if cancelled { C2CServiceMetrics.disbursements.counter("cancelled").increment() }
        let current = try await reread(record.id)
        guard cancelled || current.status == .cancelled else {
            throw C2CError.disbursementState(status: current.status.phrase, action: "cancelled")
        }
        return current
    }

    // MARK: Deciding

    /// Records the caller's decision on a pending disbursement. The M-th approval approves it and
    /// queues its execution, in the same transaction, if the fund covers the total; otherwise
    /// nothing is recorded. One rejection ends it. Deciding again as before answers it as it is.
    func decide(
        _ text: String, approve: Bool, note rawNote: String?, by caller: Principal
    ) async throws
        -> DisbursementRecord
    {
        let note = rawNote?.trimmingCharacters(in: .whitespacesAndNewlines)
        var violations: [FieldViolation] = []
        if let note, note.count > 1_000 {
            violations.append(FieldViolation(field: "note", reason: "must be at most 1000 characters"))
        }
        if !approve, note?.isEmpty ?? true {
            violations.append(FieldViolation(field: "note", reason: "say why the disbursement is rejected"))
        }
        guard violations.isEmpty else { throw C2CError.invalidInput(violations) }
        let record = try await disbursement(text, by: caller)
        try caller.require(Permission(.disbursement, .approve, projectID: record.projectID.lowercasedString))
        // M approvals mean M people who looked: a script holding a key would make them one.
        guard caller.method == .password else { throw C2CError.decisionNeedsPerson }
        guard record.createdBy != caller.userID else { throw C2CError.ownDisbursement }
        if let earlier = record.approvals.first(where: { $0.userID == caller.userID }) {
            guard earlier.approved == approve else {
                throw C2CError.disbursementState(
                    status: earlier.approved ? "approved by you" : "rejected by you",
                    action: approve ? "approved" : "rejected")
            }
            // Read again whole: the status and approvals above were two reads, around another
            // request's commit perhaps.
            return try await reread(record.id)
        }
        guard record.status == .pendingApproval else {
            throw C2CError.disbursementState(status: record.status.phrase, action: approve ? "approved" : "rejected")
        }
        guard record.approverIDs.contains(caller.userID) else { throw C2CError.notAnApprover }
        if approve { try await requireOpen(record.projectID) }
        // Read before the transaction: an M-th approval must not commit an execution the fund
        // cannot pay. The ledger still refuses any overdraft itself.
        let balance = approve ? try await clients.fundBalance(projectID: record.projectID) : 0
        let now = self.now()
        let userID = caller.userID
        let batchSize = self.batchSize
        let logger = self.logger
        let approvedNow = try await database.sqlTransaction { tx -> Bool in
            // Locking the row first: two approvers deciding at once count one another's approvals.
            guard try await DisbursementStore.lockPending(record.id, at: now, on: tx),
                try await DisbursementStore.recordDecision(
                    record.id, by: userID, approve: approve, note: note, at: now, on: tx)
            else { return false }
            guard approve else {
                try await DisbursementStore.reject(record.id, at: now, on: tx)
                return false
            }
            let approvals = try await DisbursementStore.approvalCount(of: record.id, on: tx)
            guard approvals >= record.requiredApprovals else { return false }
            let unpaid = record.total - record.amountCompleted
            guard balance >= unpaid else { throw C2CError.insufficientFunds(balance: balance, needed: unpaid) }
            let ranges = try await Self.pendingRanges(of: record.id, batchSize: batchSize, on: tx)
            let jobs = ranges.enumerated().map { index, range in
                Self.executionJob(record.id, round: 1, batch: index + 1, lines: range, owner: record.createdBy)
            }
            try await DisbursementStore.approve(record.id, jobIDs: jobs.map(\.id), at: now, on: tx)
            try await Outbox.append(jobs.map { .jobRequested($0, at: now) }, on: tx)
            return true
        }
        if approvedNow {
            C2CServiceMetrics.disbursements.counter("approved").increment()
            logger.info(
                "disbursement approved; execution queued",
                metadata: [
                    "disbursement_id": "\(record.id.lowercasedString)", "lines": "\(record.lineCount)",
                    "total": "\(record.total)",
                ])
        }
        // Nothing recorded (cancelled, rejected or approved meanwhile) unless this same decision
        // was, by this request or an identical one at the same time.
        let current = try await reread(record.id)
        guard current.approvals.contains(where: { $0.userID == userID && $0.approved == approve }) else {
            throw C2CError.disbursementState(status: current.status.phrase, action: approve ? "approved" : "rejected")
        }
        return current
    }

    // MARK: Retrying

    /// Queues failed lines again (those named, or all), as a new round of jobs.
    func retry(_ text: String, lineNumbers: [Int64], by caller: Principal) async throws -> DisbursementRecord {
        if lineNumbers.count > Self.maxRetryLines {
            throw C2CError.invalidInput([
                FieldViolation(field: "lineNumbers", reason: "must name at most \(Self.maxRetryLines) lines")
            ])
        }
        let record = try await disbursement(text, by: caller)
        try caller.require(Permission(.disbursement, .update, projectID: record.projectID.lowercasedString))
        guard record.status == .partiallyFailed else {
            throw C2CError.disbursementState(status: record.status.phrase, action: "retried")
        }
        let named = Set(lineNumbers)
        try await requireOpen(record.projectID)
        var failed: [(number: Int64, amount: Int64)] = []
        var unconfirmed = false
        var after: Int64 = 0
        while true {
            let rows = try await DisbursementStore.failedLines(
                of: record.id, after: after, named: named, limit: 10_000, on: sql)
            for row in rows {
                if named.isEmpty || named.contains(row.number) {
                    failed.append((row.number, row.amount))
                    unconfirmed = unconfirmed || (row.lastError ?? "").hasPrefix(Self.unconfirmed)
                }
                after = row.number
            }
            if rows.count < 10_000 { break }
        }
        let unknown = named.subtracting(failed.map(\.number))
        if let first = unknown.min() {
            throw C2CError.invalidInput([
                FieldViolation(field: "lineNumbers", reason: "line \(first) is not a failed line of this disbursement")
            ])
        }
        guard !failed.isEmpty else {
            throw C2CError.disbursementState(status: "without failed lines", action: "retried")
        }
        let needed = failed.reduce(Int64(0)) { $0 + $1.amount }
        let balance = try await clients.fundBalance(projectID: record.projectID)
        // Lines whose job gave up unanswered may be paid already (the retry is then answered
        // with their transfers), so only refused lines must be covered up front.
        guard balance >= needed || unconfirmed else {
            throw C2CError.insufficientFunds(balance: balance, needed: needed)
        }
        let now = self.now()
        let round = record.round + 1
        let numbers = failed.map(\.number)
        let jobs = numbers.chunks(of: batchSize).enumerated().compactMap { index, chunk -> JobRequest? in
            guard let first = chunk.first, let last = chunk.last else { return nil }
            return Self.executionJob(
                record.id, round: round, batch: index + 1, lines: first...last, owner: caller.userID)
        }
        try await database.sqlTransaction { tx in
            // Another retry of this round won: its jobs are queued already.
            guard
                try await DisbursementStore.startRound(
                    record.id, after: record.round, jobIDs: jobs.map(\.id), failed: numbers.count, at: now, on: tx)
            else { return }
            try await DisbursementStore.requeueFailed(record.id, lines: numbers, on: tx)
            try await Outbox.append(jobs.map { .jobRequested($0, at: now) }, on: tx)
        }
        return try await reread(record.id)
    }

    // MARK: Helpers

    func reread(_ id: UUID) async throws -> DisbursementRecord {
        guard let record = try await DisbursementStore.disbursement(id, on: sql) else {
            throw C2CError.disbursementNotFound
        }
        return record
    }

    /// The pending lines' numbers cut into job-sized ranges: line numbers are dense from 1, so
    /// the first round's ranges are plain strides.
    static func pendingRanges(
        of id: UUID, batchSize: Int, on sql: any SQLDatabase
    ) async throws -> [ClosedRange<Int64>] {
        let last = try await DisbursementStore.lastLineNumber(of: id, on: sql)
        return stride(from: Int64(1), through: last, by: batchSize).map { $0...min($0 + Int64(batchSize) - 1, last) }
    }
}
