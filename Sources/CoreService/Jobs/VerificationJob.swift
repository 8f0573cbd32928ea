import Foundation
import Logging
import Messaging
import Persistence

extension CoreDomain {
    /// Runs a batch of checks as a job: each applies the rules and records its outcome on the run
    /// and the beneficiary, with its event, unless a later change superseded the run meanwhile.
    /// Running the job again changes nothing that it recorded.
    var verificationJob: JobHandler {
        JobHandler(queue: Self.verificationQueue, name: Self.verificationJobName) { context in
            struct Payload: Decodable { var verificationIds: [UUID] }
            guard let payload = try? JSONDecoder().decode(Payload.self, from: Data(context.job.payload.utf8)),
                !payload.verificationIds.isEmpty
            else { throw UnrecoverableJobError("the job's payload names no verification") }
            var counts: [String: Int64] = [:]
            for (index, id) in payload.verificationIds.enumerated() {
                // A retry skips the runs an earlier attempt recorded: they are no longer pending.
                // A run that can never be checked (its record is gone) does not hold up the rest;
                // any other error fails the attempt, to be retried.
                do {
                    let status = try await self.runVerification(id)
                    counts[status.rawValue, default: 0] += 1
                } catch let error as UnrecoverableJobError {
                    self.logger.warning(
                        "verification skipped", metadata: ["verification.id": "\(id)", "error": "\(error)"])
                    counts["skipped", default: 0] += 1
                }
                if index % 50 == 49 {
                    do {
                        try await context.progress(
                            100 * (index + 1) / payload.verificationIds.count, "\(index + 1) checked")
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
