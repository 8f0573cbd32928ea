import FluentKit
import Foundation
import Persistence
import SQLKit
import SharedModels

/// Imports as stored: the import row, its file's pieces while it runs, its rejected rows, and the
/// statements of a run (claiming it, holding its lease, giving it back).
enum ImportStore {
    /// The import `id`, or `nil`.
    static func find(_ id: UUID, on database: any Database) async throws -> ImportRow? {
        try await ImportRow.find(id, on: database)
    }

    /// Inserts a new import, still uploading.
    static func create(_ row: ImportRow, on database: any Database) async throws {
        try await row.create(on: database)
    }

    /// Writes an import's changed status, counters or resume point back.
    static func save(_ row: ImportRow, on database: any Database) async throws {
        try await row.save(on: database)
    }

    /// Holds the lock that import starts take until the transaction ends (PostgreSQL; SQLite has
    /// one writer), so concurrent uploads count the unfinished imports one after another.
    static func lockImportStarts(on database: any Database) async throws {
        try await AdvisoryLock.holdForTransaction("rahat.core.import-starts", on: database)
    }

    /// Imports that hold a place against the limits (queued or running, or uploading since
    /// `liveSince`); only `createdBy`'s when given.
    static func unfinishedCount(createdBy: UUID?, liveSince: Date, on database: any Database) async throws -> Int {
        let waiting = [ImportStatus.queued, .running].map(\.rawValue)
        var query = ImportRow.query(on: database)
        if let createdBy { query = query.filter(\.$createdBy == createdBy) }
        return try await query.group(.or) { either in
            either.filter(\.$status ~~ waiting).group(.and) { uploading in
                uploading.filter(\.$status == ImportStatus.uploading.rawValue).filter(\.$createdAt > liveSince)
            }
        }.count()
    }

    /// The queued or running import of the file with this SHA-256, if any: a file is imported once at a time.
    static func activeImport(sha256 digest: String, on database: any Database) async throws -> ImportRow? {
        let active = [ImportStatus.queued.rawValue, ImportStatus.running.rawValue]
        return try await ImportRow.query(on: database).filter(\.$sha256 == digest).filter(\.$status ~~ active).first()
    }

    /// Up to `limit` imports past their upload, in id order after `after`.
    static func page(after: UUID?, limit: Int, on database: any Database) async throws -> [ImportRow] {
        var query = ImportRow.query(on: database).filter(\.$status != ImportStatus.uploading.rawValue).sort(\.$id)
            .limit(limit)
        if let after { query = query.filter(\.$id > after) }
        return try await query.all()
    }

    /// Up to `limit` imports a runner may take, oldest first: queued, or running on a lease that
    /// ran out before `leaseCutoff`; only `wanted` when given.
    static func claimable(
        _ wanted: UUID?, leaseCutoff: Date, limit: Int, on database: any Database
    ) async throws -> [ImportRow] {
        var query = ImportRow.query(on: database)
            .group(.or) {
                $0.filter(\.$status == ImportStatus.queued.rawValue).group(.and) {
                    $0.filter(\.$status == ImportStatus.running.rawValue).filter(\.$leaseUntil < leaseCutoff)
                }
            }
        if let wanted { query = query.filter(\.$id == wanted) }
        return try await query.sort(\.$id).limit(limit).all()
    }

    // MARK: The file

    /// Stores piece `seq` of an import's file.
    static func insertChunk(_ data: Data, seq: Int, of importID: UUID, on database: any Database) async throws {
        let chunk = ImportChunkRow()
        chunk.id = UUID.v7()
        chunk.importID = importID
        chunk.seq = seq
        chunk.data = data
        try await chunk.create(on: database)
    }

    /// Piece `seq` of the import's file, or `nil` past its last.
    static func chunk(_ seq: Int, of importID: UUID, on database: any Database) async throws -> ImportChunkRow? {
        try await ImportChunkRow.query(on: database).filter(\.$importID == importID).filter(\.$seq == seq).first()
    }

    /// Drops the import's stored file: a finished import needs it no more.
    static func deleteChunks(of importID: UUID, on database: any Database) async throws {
        try await ImportChunkRow.query(on: database).filter(\.$importID == importID).delete()
    }

    /// Removes an upload that did not complete, its pieces first.
    static func deleteUpload(_ importID: UUID, on database: any Database) async throws {
        try await ImportChunkRow.query(on: database).filter(\.$importID == importID).delete()
        try await ImportRow.query(on: database).filter(\.$id == importID).delete()
    }

    /// Uploads still receiving their file that were started before `cutoff`.
    static func uploads(startedBefore cutoff: Date, on database: any Database) async throws -> [UUID] {
        try await ImportRow.query(on: database).filter(\.$status == ImportStatus.uploading.rawValue)
            .filter(\.$createdAt < cutoff).all().compactMap(\.id)
    }

    /// Removes uploads and their pieces, pieces first; in the caller's transaction.
    static func deleteUploads(_ ids: [UUID], on database: any Database) async throws {
        try await ImportChunkRow.query(on: database).filter(\.$importID ~~ ids).delete()
        try await ImportRow.query(on: database).filter(\.$id ~~ ids).delete()
    }

    // MARK: Rejected rows

    /// Records rows of the import that were not written, and why.
    static func insertRejects(
        _ rejects: [(line: Int, column: String, reason: String)], of importID: UUID, at now: Date,
        on database: any Database
    ) async throws {
        var rows = BulkInsert(
            into: ImportRejectRow.schema, columns: ["id", "import_id", "line", "column_name", "reason"])
        for reject in rejects {
            rows.append([
                .uuid(UUID.v7(at: now)), .uuid(importID), .int(reject.line), .text(reject.column),
                .text(reject.reason),
            ])
        }
        try await rows.run(on: database)
    }

    /// Up to `limit` of the import's rejected rows in (line, id) order, after (`afterLine`,
    /// `afterID`) once there is an `afterID`.
    static func rejects(
        of importID: UUID, afterLine: Int, afterID: UUID?, limit: Int, on database: any Database
    ) async throws -> [ImportRejectRow] {
        var query = ImportRejectRow.query(on: database).filter(\.$importID == importID).sort(\.$line).sort(\.$id)
            .limit(limit)
        if let afterID {
            query = query.group(.or) {
                $0.filter(\.$line > afterLine).group(.and) {
                    $0.filter(\.$line == afterLine).filter(\.$id > afterID)
                }
            }
        }
        return try await query.all()
    }

    // MARK: Running
    /// Takes import `id` under `token` when it is queued, or running on a lease that ran out
    /// before `leaseCutoff`: one conditional `UPDATE … RETURNING`, so of several runners (in
    /// several processes) exactly one wins it. The run's attempt number, or `nil` when another won.
    static func claim(
        _ id: UUID, token: UUID, at now: Date, leaseUntil: Date, leaseCutoff: Date, on sql: any SQLDatabase
    ) async throws -> Int? {
        let claimed = try await sql.raw(
            """
            UPDATE imports SET status = 'running', claim_token = \(bind: token),
                lease_until = \(bind: leaseUntil),
                started_at = COALESCE(started_at, \(bind: now)), attempts = attempts + 1
            WHERE id = \(bind: id)
                AND (status = 'queued' OR (status = 'running' AND lease_until < \(bind: leaseCutoff)))
            RETURNING attempts
            """
        ).all()
        guard let row = claimed.first else { return nil }
        return try row.decode(column: "attempts", as: Int.self)
    }

    /// Renews the claim's lease to `until`; false when another runner holds the import now. On
    /// PostgreSQL the row stays locked until the caller's transaction ends.
    static func renewLease(
        _ id: UUID, token: UUID, until: Date, on sql: any SQLDatabase
    ) async throws -> Bool {
        let held = try await sql.raw(
            """
            UPDATE imports SET lease_until = \(bind: until)
            WHERE id = \(bind: id) AND claim_token = \(bind: token) AND status = 'running'
            RETURNING id
            """
        ).all()
        return !held.isEmpty
    }

    /// Puts a claimed import back in the queue; a run not counted gives back its attempt.
    static func release(
        _ id: UUID, token: UUID, countingThisRun: Bool, on sql: any SQLDatabase
    ) async throws {
        try await sql.raw(
            """
            UPDATE imports SET status = 'queued', claim_token = NULL, lease_until = NULL,
                attempts = attempts - \(bind: countingThisRun ? 0 : 1)
            WHERE id = \(bind: id) AND claim_token = \(bind: token) AND status = 'running'
            """
        ).run()
    }

    /// Brings PostgreSQL's statistics for the tables imports write up to date (a sampled, cheap
    /// `ANALYZE`); SQLite's planner uses the indexes without them.
    static func refreshPlannerStatistics(on sql: any SQLDatabase) async throws {
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw(
            "ANALYZE \(ident: BeneficiaryRow.schema), \(ident: EnrolmentRow.schema), \(ident: GroupMemberRow.schema)"
        ).run()
    }
}
