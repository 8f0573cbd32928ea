import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Settlement schedules as stored: column lists, row decoding and lookups.
extension C2CDomain {
    func storedSchedule(_ projectID: UUID) async throws -> SettlementScheduleRecord {
        guard
            let record = try await sql.select().columns(Self.scheduleColumns).from("settlement_schedules")
                .where("project_id", .equal, SQLBind(projectID)).first().map(Self.schedule(from:))
        else { throw C2CError.settlementScheduleNotFound }
        return record
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
