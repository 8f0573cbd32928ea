import Foundation
import Messaging
import Persistence
import SharedModels

extension CoreDomain {
    /// Runs a batch of checks as a job: each applies the rules and records its outcome on the run
    /// and the beneficiary, with its event, unless a later change superseded the run meanwhile.
    /// Running the job again changes nothing that it recorded.
    var verificationJob: JobHandler {
        // Each job checks hundreds of people in database-bound batches: one at a time per worker
        // leaves the process's connections to the requests it serves.
        JobHandler(queue: Self.verificationQueue, name: Self.verificationJobName, maxConcurrency: 1) { context in
            struct Payload: Decodable { var verificationIds: [UUID] }
            let payload = try context.payload(as: Payload.self, otherwise: "the job's payload names no verification")
            guard !payload.verificationIds.isEmpty else {
                throw UnrecoverableJobError("the job's payload names no verification")
            }
            var counts: [String: Int64] = [:]
            let batches = payload.verificationIds.chunks(of: Self.verificationCheckBatch)
            for (index, batch) in batches.enumerated() {
                // A retry skips the runs an earlier attempt recorded: they are no longer pending.
                for (status, count) in try await self.runVerifications(Array(batch)) {
                    counts[status.rawValue, default: 0] += Int64(count)
                }
                if index + 1 < batches.count {
                    do {
                        try await context.progress(
                            100 * (index + 1) / batches.count, "\((index + 1) * Self.verificationCheckBatch) checked")
                    } catch let lost as JobLost {
                        // Another worker runs the job now; what this one recorded stays recorded.
                        throw lost
                    } catch {
                        // A progress report is not worth the run.
                    }
                }
            }
            return OutboxValue.object(counts.mapValues(OutboxValue.int)).json
        }
    }
}
