import FluentKit
import Messaging
import Persistence

/// Imports queued or running when imports became jobs have no job: this requests one for each,
/// through the outbox like every job request, so a worker takes them up. Import job ids are the
/// import's, so a job that exists already is not doubled.
struct QueueImportJobs: AsyncMigration {
    var name: String { "core.0010_QueueImportJobs" }

    func prepare(on database: any Database) async throws {
        let active = try await ImportRow.query(on: database)
            .filter(\.$status ~~ [ImportStatus.queued.rawValue, ImportStatus.running.rawValue]).all()
        guard !active.isEmpty else { return }
        try await Outbox.append(try active.map { .jobRequested(try CoreDomain.importJobRequest($0)) }, on: database)
    }

    /// The requests may have become jobs already; nothing of the schema changed.
    func revert(on database: any Database) async throws {}
}
