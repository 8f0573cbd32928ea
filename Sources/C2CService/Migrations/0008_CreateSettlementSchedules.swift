import FluentKit
import SQLKit

/// Per project, when its vendors are settled without anyone asking; and which run a schedule
/// started, so a scheduled run retried after a crash is not started twice.
struct CreateSettlementSchedules: AsyncMigration {
    var name: String { "c2c.0008_CreateSettlementSchedules" }

    func prepare(on database: any Database) async throws {
        try await database.schema("settlement_schedules")
            .field("project_id", .uuid, .identifier(auto: false))
            .field("cadence", .string, .required)
            .field("minute_of_day", .int, .required)
            .field("weekday", .int)
            .field("day_of_month", .int)
            .field("time_zone", .string, .required)
            .field("next_run_at", .datetime, .required)
            .field("last_run_at", .datetime)
            .field("last_run_id", .uuid)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("updated_by", .uuid, .required)
            .field("updated_at", .datetime, .required)
            .create()
        // When the schedule fell due, for runs it started; NULL for runs someone asked for.
        try await database.schema("settlement_runs").field("scheduled_for", .datetime).update()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "settlement_runs_scheduled_idx").unique().on("settlement_runs")
            .column("project_id").column("scheduled_for").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "settlement_runs_scheduled_idx").run()
        try await database.schema("settlement_runs").deleteField("scheduled_for").update()
        try await database.schema("settlement_schedules").delete()
    }
}
