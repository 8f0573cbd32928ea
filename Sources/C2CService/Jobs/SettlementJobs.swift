import Foundation
import JobQueue
import Messaging
import Persistence
import SharedModels

extension C2CDomain {
    /// The queue settlement runs go on.
    static let settlementQueue = "settlement"
    /// Carries one settlement run out.
    static let settlementJobName = "c2c.settlement.execute"
    /// Falls due at a schedule's time: moves the schedule on and queues that period's run.
    static let settlementTickJobName = "c2c.settlement.tick"
    /// Starts the run of one period of a schedule.
    static let scheduledSettlementJobName = "c2c.settlement.scheduled"

    /// The job that carries a run out.
    static func settlementRunJob(_ runID: UUID, owner: UUID) -> JobRequest {
        JobRequest(
            id: "settlement-run-\(runID.lowercasedString)", queue: settlementQueue, name: settlementJobName,
            payload: OutboxValue.object(["runId": .string(runID.lowercasedString)]).json, maxAttempts: 8,
            backoff: .seconds(2), owner: owner.lowercasedString)
    }

    /// Starts the run of the period of `projectID`'s schedule due at `dueAt`, as the user who set
    /// the schedule; its id names the project and the time, so a tick run twice queues it once.
    static func scheduledRunJob(_ projectID: UUID, dueAt: Int64, by userID: UUID) -> JobRequest {
        JobRequest(
            id: "settlement-scheduled-\(projectID.lowercasedString)-\(dueAt)", queue: settlementQueue,
            name: scheduledSettlementJobName,
            payload: OutboxValue.object([
                "projectId": .string(projectID.lowercasedString), "dueAt": .int(dueAt),
                "by": .string(userID.lowercasedString),
            ]).json, maxAttempts: 20, backoff: .seconds(5), owner: userID.lowercasedString)
    }

    /// Waits (as a delayed job) for `due`; its id names the project and the time, so setting the
    /// same schedule twice queues it once.
    static func tickJob(_ projectID: UUID, due: Date, now: Date) -> JobRequest {
        let project = projectID.lowercasedString
        return JobRequest(
            id: "settlement-schedule-\(project)-\(milliseconds(due))", queue: settlementQueue,
            name: settlementTickJobName,
            payload: OutboxValue.object(["projectId": .string(project), "dueAt": .int(milliseconds(due))]).json,
            maxAttempts: 20, backoff: .seconds(5), delay: .milliseconds(max(0, milliseconds(due) - milliseconds(now))))
    }

    /// Moves each pending settlement's amount from the vendor's account to clearing, then writes
    /// the run's payout files. Each move is keyed by its settlement, so a job run again moves
    /// nothing twice; files are written once.
    var settlementJob: JobHandler {
        JobHandler(queue: Self.settlementQueue, name: Self.settlementJobName) { context in
            struct Payload: Decodable { var runId: UUID }
            let payload = try context.payload(as: Payload.self, otherwise: "the job's payload names no settlement run")
            let (processing, failed) = try await executeRun(payload.runId)
            return OutboxValue.object(["processing": .int(Int64(processing)), "failed": .int(Int64(failed))]).json
        }
    }

    /// A schedule's time has come: see ``settlementScheduleFellDue(_:dueAt:)``.
    var settlementTickJob: JobHandler {
        JobHandler(queue: Self.settlementQueue, name: Self.settlementTickJobName) { context in
            struct Payload: Decodable {
                var projectId: UUID
                var dueAt: Int64
            }
            let payload = try context.payload(
                as: Payload.self, otherwise: "the job's payload names no project and time")
            let next = try await settlementScheduleFellDue(payload.projectId, dueAt: payload.dueAt)
            return OutboxValue.object(["nextRunAt": next.map { .int(Self.milliseconds($0)) } ?? .null]).json
        }
    }

    /// One period's run of a schedule: see ``startScheduledRun(_:dueAt:by:)``.
    var scheduledSettlementJob: JobHandler {
        JobHandler(queue: Self.settlementQueue, name: Self.scheduledSettlementJobName) { context in
            struct Payload: Decodable {
                var projectId: UUID
                var dueAt: Int64
                var by: UUID
            }
            let payload = try context.payload(
                as: Payload.self, otherwise: "the job's payload names no project, time and user")
            let run = try await startScheduledRun(payload.projectId, dueAt: payload.dueAt, by: payload.by)
            return OutboxValue.object([
                "runId": run.map { .string($0.id.lowercasedString) } ?? .null,
                "settlements": .int(Int64(run?.settlements.count ?? 0)),
            ]).json
        }
    }
}
