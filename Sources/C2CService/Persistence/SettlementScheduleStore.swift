import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Settlement schedules as stored, and the statements that read and change them.
enum SettlementScheduleStore {
    static func schedule(of projectID: UUID, on sql: any SQLDatabase) async throws -> SettlementScheduleRecord? {
        try await sql.select().columns(scheduleColumns).from("settlement_schedules")
            .where("project_id", .equal, SQLBind(projectID)).first().map(schedule(from:))
    }

    /// The schedule, its row locked for the caller's transaction: touching the row takes its lock
    /// (PostgreSQL) or the write lock (SQLite), so a tick and a new schedule do not cross.
    static func lockedSchedule(
        of projectID: UUID, on sql: any SQLDatabase
    ) async throws -> SettlementScheduleRecord? {
        try await sql.update("settlement_schedules").set("next_run_at", to: SQLIdentifier("next_run_at"))
            .where("project_id", .equal, SQLBind(projectID)).returning(scheduleColumns).first()
            .map(schedule(from:))
    }

    /// Sets or replaces the project's schedule, next due at `next`.
    static func upsert(
        _ schedule: SettlementSchedule, projectID: UUID, next: Date, by userID: UUID, at now: Date,
        on sql: any SQLDatabase
    ) async throws {
        try await sql.insert(into: "settlement_schedules")
            .columns(
                "project_id", "cadence", "minute_of_day", "weekday", "day_of_month", "time_zone", "next_run_at",
                "created_by", "created_at", "updated_by", "updated_at"
            )
            .values(
                SQLBind(projectID), SQLBind(schedule.cadence.rawValue), SQLBind(schedule.minuteOfDay),
                SQLBind(schedule.weekday), SQLBind(schedule.dayOfMonth), SQLBind(schedule.timeZone.identifier),
                SQLBind(next), SQLBind(userID), SQLBind(now), SQLBind(userID), SQLBind(now)
            )
            .onConflict(with: ["project_id"]) { update in
                update.set(excludedValueOf: "cadence").set(excludedValueOf: "minute_of_day")
                    .set(excludedValueOf: "weekday").set(excludedValueOf: "day_of_month")
                    .set(excludedValueOf: "time_zone").set(excludedValueOf: "next_run_at")
                    .set(excludedValueOf: "updated_by").set(excludedValueOf: "updated_at")
            }
            .run()
    }

    /// Whether the project had a schedule to delete.
    static func delete(of projectID: UUID, on sql: any SQLDatabase) async throws -> Bool {
        try await !sql.delete(from: "settlement_schedules").where("project_id", .equal, SQLBind(projectID))
            .returning("project_id").all().isEmpty
    }

    /// Moves the schedule on: it fell due at `due`, next at `next`; no run of `due` yet.
    static func advance(_ projectID: UUID, due: Date, next: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("settlement_schedules").set("next_run_at", to: SQLBind(next))
            .set("last_run_at", to: SQLBind(due)).set("last_run_id", to: SQLLiteral.null)
            .where("project_id", .equal, SQLBind(projectID)).run()
    }

    /// Whether the project has a run scheduled for `due` already.
    static func runExists(projectID: UUID, scheduledFor due: Date, on sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("id").from("settlement_runs")
            .where("project_id", .equal, SQLBind(projectID)).where("scheduled_for", .equal, SQLBind(due))
            .first() != nil
    }

    /// Records the run started for `due`, if the schedule still last fell due then.
    static func recordRun(_ runID: UUID, projectID: UUID, due: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("settlement_schedules").set("last_run_id", to: SQLBind(runID))
            .where("project_id", .equal, SQLBind(projectID)).where("last_run_at", .equal, SQLBind(due)).run()
    }

    static let scheduleColumns = [
        "project_id", "cadence", "minute_of_day", "weekday", "day_of_month", "time_zone", "next_run_at", "last_run_at",
        "last_run_id", "created_by", "created_at", "updated_by", "updated_at",
    ].map { SQLIdentifier($0) as any SQLExpression }

    static func schedule(from row: any SQLRow) throws -> SettlementScheduleRecord {
        let cadence = try row.decode(column: "cadence", as: String.self)
        let zone = try row.decode(column: "time_zone", as: String.self)
        guard let parsedCadence = SettlementSchedule.Cadence(rawValue: cadence) else {
            throw C2CStorageError(description: "settlement schedule cadence '\(cadence)'")
        }
        guard let timeZone = TimeZone(identifier: zone) else {
            throw C2CStorageError(description: "settlement schedule time zone '\(zone)'")
        }
        return SettlementScheduleRecord(
            projectID: try row.decode(column: "project_id", as: UUID.self),
            schedule: SettlementSchedule(
                cadence: parsedCadence, minuteOfDay: try row.decode(column: "minute_of_day", as: Int.self),
                weekday: try row.decode(column: "weekday", as: Int?.self),
                dayOfMonth: try row.decode(column: "day_of_month", as: Int?.self), timeZone: timeZone),
            nextRunAt: try row.decode(column: "next_run_at", as: Date.self),
            lastRunAt: try row.decode(column: "last_run_at", as: Date?.self),
            lastRunID: try row.decode(column: "last_run_id", as: UUID?.self),
            createdBy: try row.decode(column: "created_by", as: UUID.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedBy: try row.decode(column: "updated_by", as: UUID.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self))
    }
}
