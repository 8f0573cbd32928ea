import FluentKit
import Foundation
import JobQueue
import Messaging
import Persistence
import ServerKit
import ServiceLifecycle
import SharedModels

extension CoreDomain {
    /// The queue imports run on.
    static let importQueue = "imports"
    /// The job that processes one stored import file.
    static let importJobName = "core.import.run"

    /// One job per import, so a job request relayed twice starts one run.
    static func importJobID(_ importID: UUID) -> String { "import-\(importID.lowercasedString)" }

    /// The job request queued in the same transaction that queues the import.
    static func importJobRequest(_ row: ImportRow) throws -> JobRequest {
        let id = try row.requireID()
        return JobRequest(
            id: importJobID(id), queue: importQueue, name: importJobName,
            payload: OutboxValue.object(["importId": .string(id.lowercasedString)]).json,
            // The import counts its own runs and fails itself after `importMaxAttempts`; the job
            // gives it one more, so that last run can record why.
            maxAttempts: importMaxAttempts + 1, backoff: .seconds(5), owner: row.createdBy.lowercasedString)
    }

    /// Runs an import as a job: claims it, processes it with progress, and ends the job with
    /// the import's outcome. A run a shutdown paused goes back to the queue uncounted and the
    /// next resumes after its last committed batch; a transient fault is retried with back-off;
    /// an import that failed for good (a file it cannot read) fails the job without retries.
    var importJob: JobHandler {
        JobHandler(queue: Self.importQueue, name: Self.importJobName) { context in
            try await self.runImportJob(context)
        }
    }

    private struct ImportJobPayload: Decodable {
        var importId: UUID
    }

    private func runImportJob(_ context: JobContext) async throws -> String? {
        guard
            let payload = try? JSONDecoder().decode(ImportJobPayload.self, from: Data(context.job.payload.utf8))
        else { throw UnrecoverableJobError("the job's payload names no import") }
        let id = payload.importId
        if let claim = try await claimImport(id: id, overLease: true) {
            try await runImport(claim) { percent, rows in
                do {
                    try await context.progress(percent, "\(rows) rows read")
                } catch is JobLost {
                    // Another worker runs the job now: stop without writing, as when the import's
                    // own lease is lost.
                    throw ImportLost()
                } catch {
                    // A progress report is not worth the run: the next one may get through.
                }
            }
        }
        guard let row = try await ImportStore.find(id, on: db) else {
            throw UnrecoverableJobError("the import no longer exists")
        }
        switch ImportStatus(rawValue: row.status) {
        case .completed:
            return OutboxValue.object([
                "importId": .string(id.lowercasedString), "rows": .int(Int64(row.rows)),
                "created": .int(Int64(row.created)), "updated": .int(Int64(row.updated)),
                "duplicates": .int(Int64(row.duplicates)), "rejected": .int(Int64(row.rejected)),
            ]).json
        case .failed:
            throw UnrecoverableJobError(row.error ?? "the import failed")
        case .queued where Task.isShuttingDownGracefully:
            throw JobInterrupted()
        case .queued:
            throw ImportRunStopped(reason: "the run stopped early; the next resumes after its last committed batch")
        case .running:
            // Another run took it over since (this job's lock was lost): that run ends the job.
            throw ImportRunStopped(reason: "another run holds the import")
        case .uploading, nil:
            throw UnrecoverableJobError("the import is not ready to run (\(row.status))")
        }
    }
}

/// An import run that ended without finishing the import; the job tries again.
struct ImportRunStopped: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
