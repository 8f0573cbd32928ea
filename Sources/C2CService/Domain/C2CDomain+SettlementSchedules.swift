import FluentKit
import Foundation
import JobQueue
import Messaging
import Persistence
import SQLKit
import ServerKit
import SharedModels

/// Rolls back a scheduled run that claimed nothing (other runs took it all first).
private struct NothingClaimed: Error {}

/// A project's settlement schedule as stored.
struct SettlementScheduleRecord: Sendable, Equatable {
    var projectID: UUID
    var schedule: SettlementSchedule
    var nextRunAt: Date
    /// When it last fell due, and the run that started then (none when nothing was owed).
    var lastRunAt: Date?
    var lastRunID: UUID?
    var createdBy: UUID
    var createdAt: Date
    /// Whose right to start settlements the scheduled runs act on.
    var updatedBy: UUID
    var updatedAt: Date
}

extension C2CDomain {
    // MARK: Setting it

    /// Sets (or replaces) the project's schedule. Needs `settlement:create` on the project: the
    /// schedule starts runs with its setter's authority.
    func setSettlementSchedule(
        projectID text: String, cadence: String, at: String, weekday: Int?, dayOfMonth: Int?, timeZone: String?,
        by caller: Principal
    ) async throws -> SettlementScheduleRecord {
        let projectID = try parseID(text, field: "projectId")
        let schedule = try SettlementSchedule.validated(
            cadence: cadence, at: at, weekday: weekday, dayOfMonth: dayOfMonth, timeZone: timeZone)
        try caller.require(Permission(.settlement, .create, projectID: projectID.lowercasedString))
        let project = try await clients.project(projectID)
        guard !project.closed else { throw C2CError.projectClosed }
        let now = self.now()
        let userID = caller.userID
        let next = try await database.sqlTransaction { tx -> Date in
            // Under the row's lock, and never at or before the last time it fell due: a tick that
            // ran meanwhile has moved the schedule on, and its job id (the time) is spent.
            let lastRun = try await SettlementScheduleStore.lockedSchedule(of: projectID, on: tx)?.lastRunAt
            guard let next = schedule.nextRun(after: max(now, lastRun ?? now)) else {
                throw C2CError.invalidInput([FieldViolation(field: "at", reason: "never falls in this time zone")])
            }
            try await SettlementScheduleStore.upsert(
                schedule, projectID: projectID, next: next, by: userID, at: now, on: tx)
            // A tick queued for the schedule it replaces finds another time due, and does nothing.
            try await Outbox.append([.jobRequested(Self.tickJob(projectID, due: next, now: now), at: now)], on: tx)
            return next
        }
        logger.info(
            "settlement schedule set",
            metadata: [
                "project_id": "\(projectID.lowercasedString)", "cadence": "\(schedule.cadence.rawValue)",
                "next_run_at": "\(next)",
            ])
        return try await storedSchedule(projectID)
    }

    func settlementSchedule(projectID text: String, by caller: Principal) async throws -> SettlementScheduleRecord {
        let projectID = try parseID(text, field: "projectId")
        try caller.require(Permission(.settlement, .read, projectID: projectID.lowercasedString))
        return try await storedSchedule(projectID)
    }

    /// Stops scheduled runs; runs already started go on. Needs `settlement:create`.
    func deleteSettlementSchedule(projectID text: String, by caller: Principal) async throws {
        let projectID = try parseID(text, field: "projectId")
        try caller.require(Permission(.settlement, .create, projectID: projectID.lowercasedString))
        guard try await SettlementScheduleStore.delete(of: projectID, on: sql) else {
            throw C2CError.settlementScheduleNotFound
        }
        logger.info("settlement schedule deleted", metadata: ["project_id": "\(projectID.lowercasedString)"])
    }

    // MARK: Falling due

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000).rounded())
    }

    /// Moves the schedule to its next time and queues this period's run and the next tick, in one
    /// transaction: a tick run twice, or one for a schedule since replaced or deleted, finds
    /// another time due and does nothing. The run is a job of its own, so a run that cannot start
    /// yet (core or the ledger unreachable) is retried without holding the schedule back. Returns
    /// the next time, `nil` when this tick was not the one due.
    @discardableResult
    func settlementScheduleFellDue(_ projectID: UUID, dueAt: Int64) async throws -> Date? {
        let now = self.now()
        let due = Date(timeIntervalSince1970: Double(dueAt) / 1_000)
        let logger = self.logger
        return try await database.sqlTransaction { tx -> Date? in
            guard let record = try await SettlementScheduleStore.lockedSchedule(of: projectID, on: tx),
                Self.milliseconds(record.nextRunAt) == dueAt
            else { return nil }
            // A worker down for several periods starts one run (it covers everything owed), then
            // waits for the next time still ahead.
            guard let next = record.schedule.nextRun(after: max(now, due)) else {
                throw C2CStorageError(description: "the schedule of \(projectID.lowercasedString) never falls due")
            }
            try await SettlementScheduleStore.advance(projectID, due: due, next: next, on: tx)
            let project = projectID.lowercasedString
            let run = Self.scheduledRunJob(projectID, dueAt: dueAt, by: record.updatedBy)
            try await Outbox.append(
                [.jobRequested(run, at: now), .jobRequested(Self.tickJob(projectID, due: next, now: now), at: now)],
                on: tx)
            logger.info(
                "settlement schedule fell due",
                metadata: ["project_id": "\(project)", "due_at": "\(due)", "next_run_at": "\(next)"])
            return next
        }
    }

    /// Settles every vendor with something owed and a payout account, as a run marked with the
    /// time it fell due: at most one run per period, however often the job runs. Vendors without
    /// a payout account wait (with a warning) rather than hold up the others. `nil` when nothing
    /// was owed.
    @discardableResult
    func startScheduledRun(_ projectID: UUID, dueAt: Int64, by userID: UUID) async throws -> SettlementRunRecord? {
        let due = Date(timeIntervalSince1970: Double(dueAt) / 1_000)
        let project: C2CClients.ProjectFacts
        do {
            project = try await clients.project(projectID)
        } catch C2CError.projectNotFound {
            throw UnrecoverableJobError("no project \(projectID.lowercasedString)")
        }
        // The setter's right to start settlements was checked when they set the schedule; one who
        // has since left starts nothing until someone sets it again.
        guard try await clients.isActiveUser(userID) else {
            logger.warning(
                "scheduled settlement skipped: the user who set the schedule is no longer active",
                metadata: ["project_id": "\(projectID.lowercasedString)", "user_id": "\(userID.lowercasedString)"])
            return nil
        }
        let (vendors, withoutAccount) = try await vendorsToSettle(
            projectID: projectID, named: [], skippingMissing: true)
        for vendor in withoutAccount {
            logger.warning(
                "scheduled settlement skips a vendor without a payout account",
                metadata: ["project_id": "\(projectID.lowercasedString)", "vendor_id": "\(vendor.id.lowercasedString)"])
        }
        guard !vendors.isEmpty else { return nil }
        let runID = UUID.v7()
        let now = self.now()
        let job = Self.settlementRunJob(runID, owner: userID)
        let settlements: [SettlementRecord]?
        do {
            settlements = try await database.sqlTransaction { tx -> [SettlementRecord]? in
                try await self.insertScheduledRun(
                    runID, project: project, vendors: vendors, job: job, due: due, by: userID, at: now, on: tx)
            }
        } catch is NothingClaimed {
            return nil
        }
        guard let settlements else { return nil }
        logger.info(
            "scheduled settlement run started",
            metadata: [
                "run_id": "\(runID.lowercasedString)", "project_id": "\(projectID.lowercasedString)",
                "vendors": "\(settlements.count)",
            ])
        return SettlementRunRecord(
            id: runID, projectID: projectID, jobID: job.id, settlements: settlements, createdAt: now)
    }

    /// The scheduled run's writes, in the caller's transaction: `nil` when this period's run
    /// exists (an attempt whose answer was lost wrote it).
    private func insertScheduledRun(
        _ runID: UUID, project: C2CClients.ProjectFacts, vendors: [C2CClients.VendorFacts], job: JobRequest,
        due: Date, by userID: UUID, at now: Date, on tx: any SQLDatabase & Database
    ) async throws -> [SettlementRecord]? {
        let projectID = project.id
        guard try await !SettlementScheduleStore.runExists(projectID: projectID, scheduledFor: due, on: tx) else {
            return nil
        }
        let written = try await Self.insertRun(
            runID, project: project, vendors: vendors, job: job, scheduledFor: due, by: userID, at: now, on: tx)
        guard !written.isEmpty else { throw NothingClaimed() }
        try await SettlementScheduleStore.recordRun(runID, projectID: projectID, due: due, on: tx)
        try await Outbox.append([.jobRequested(job, at: now)], on: tx)
        return written
    }

    private func storedSchedule(_ projectID: UUID) async throws -> SettlementScheduleRecord {
        guard let record = try await SettlementScheduleStore.schedule(of: projectID, on: sql) else {
            throw C2CError.settlementScheduleNotFound
        }
        return record
    }
}
