import Foundation
import JobQueue
import Messaging
import Persistence
import SharedModels

extension C2CDomain {
    /// The queue disbursement execution runs on.
    static let disbursementQueue = "disbursement"
    /// The job that pays one batch of a disbursement's lines.
    static let disbursementJobName = "c2c.disbursement.execute"

    /// The job that pays lines `lines` of round `round`: named after them, so a request relayed
    /// twice is one job.
    static func executionJob(
        _ id: UUID, round: Int, batch: Int, lines: ClosedRange<Int64>, owner: UUID
    ) -> JobRequest {
        JobRequest(
            id: "disbursement-\(id.lowercasedString)-r\(round)-b\(batch)", queue: disbursementQueue,
            name: disbursementJobName,
            payload: OutboxValue.object([
                "disbursementId": .string(id.lowercasedString), "round": .int(Int64(round)),
                "from": .int(lines.lowerBound), "to": .int(lines.upperBound),
            ]).json,
            maxAttempts: 8, backoff: .seconds(2), owner: owner.lowercasedString,
            // An approval fans out into a job per batch: each run is its own trace, linked to it.
            traceRelation: .link)
    }

    /// Pays one batch of lines with one ledger batch transfer. Each line's idempotency key is
    /// derived from the disbursement and the line, so a job run again after a crash (before or
    /// after the ledger committed) pays nothing twice: the ledger answers the transfers it has.
    var disbursementJob: JobHandler {
        JobHandler(queue: Self.disbursementQueue, name: Self.disbursementJobName) { context in
            struct Payload: Decodable {
                var disbursementId: UUID
                var round: Int
                var from: Int64
                var to: Int64
            }
            let payload = try context.payload(as: Payload.self, otherwise: "the job's payload names no lines")
            guard payload.from <= payload.to else { throw UnrecoverableJobError("the job's payload names no lines") }
            let lastAttempt = context.job.attempts >= context.job.maxAttempts
            let range = payload.from...payload.to
            let outcome: (completed: Int64, failed: Int64)
            do {
                outcome = try await self.executeBatch(payload.disbursementId, round: payload.round, lines: range)
            } catch let error where lastAttempt && !(error is JobLost || error is JobInterrupted) {
                // The queue gives up after this attempt: the lines say why instead of staying
                // pending under a disbursement that never finishes. Whether the ledger took them
                // is not known here; a retry settles it with the same keys.
                let failed = try await self.failPending(
                    payload.disbursementId, round: payload.round, lines: range,
                    reason: "\(Self.unconfirmed) after \(context.job.attempts) attempts (\(error)); retry to settle")
                outcome = (0, failed)
            }
            return OutboxValue.object([
                "completed": .int(outcome.completed), "failed": .int(outcome.failed),
            ]).json
        }
    }
}
