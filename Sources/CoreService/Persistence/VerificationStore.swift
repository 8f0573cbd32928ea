import FluentKit
import Foundation
import Persistence
import SQLKit
import SharedModels

/// Check runs, the outcomes they write onto beneficiaries, and the watch list they check against.
enum VerificationStore {
    /// Watch-list values looked up per query, well under either database's bind limit.
    static let lookupChunk = 500

    /// Records new pending runs, each for its beneficiary and named with the job that checks it.
    static func insertPending(
        _ runs: [(id: UUID, beneficiary: UUID, jobID: String)], requestedBy requester: UUID, at now: Date,
        on database: any Database
    ) async throws {
        var insert = BulkInsert(
            into: VerificationRow.schema,
            columns: ["id", "beneficiary_id", "status", "checks", "reasons", "requested_by", "requested_at", "job_id"])
        for run in runs {
            insert.append([
                .uuid(run.id), .uuid(run.beneficiary), .text(VerificationStatus.pending.rawValue), .text("[]"),
                .text("[]"), .uuid(requester), .date(now), .text(run.jobID),
            ])
        }
        try await insert.run(on: database)
    }

    /// The run `id`, or `nil`.
    static func find(_ id: UUID, on database: any Database) async throws -> VerificationRow? {
        try await VerificationRow.find(id, on: database)
    }

    /// The runs `ids` that exist, in no particular order.
    static func runs(_ ids: [UUID], on database: any Database) async throws -> [VerificationRow] {
        try await VerificationRow.query(on: database).filter(\.$id ~~ ids).all()
    }

    /// Up to `limit` runs in id order (oldest first) after `after`, of `status` and `beneficiary` when given.
    static func page(
        status: String?, beneficiary: UUID?, project: UUID? = nil, after: UUID?, limit: Int, on database: any Database
    ) async throws -> [VerificationRow] {
        var query = VerificationRow.query(on: database).sort(\.$id).limit(limit)
        if let status { query = query.filter(\.$status == status) }
        if let beneficiary { query = query.filter(\.$beneficiaryID == beneficiary) }
        if let project {
            query = query.join(EnrolmentRow.self, on: \VerificationRow.$beneficiaryID == \EnrolmentRow.$beneficiaryID)
                .filter(EnrolmentRow.self, \.$projectID == project)
        }
        if let after { query = query.filter(\.$id > after) }
        return try await query.all()
    }

    // MARK: The watch list

    /// The watch list in force (the last uploaded), or `nil` when none is.
    static func currentWatchList(on database: any Database) async throws -> WatchListRow? {
        try await WatchListRow.query(on: database).sort(\.$uploadedAt, .descending).first()
    }

    /// The first line of list `listID` holding each of `values` in the blind-index `column`.
    static func listedLines(
        _ column: KeyPath<WatchListEntryRow, OptionalFieldProperty<WatchListEntryRow, String>>, _ values: [String],
        in listID: UUID, on database: any Database
    ) async throws -> [String: Int] {
        var lines: [String: Int] = [:]
        for chunk in Array(Set(values)).chunks(of: lookupChunk) {
            for entry in try await WatchListEntryRow.query(on: database).filter(\.$listID == listID)
                .filter(column ~~ Array(chunk)).all()
            {
                guard let value = entry[keyPath: column].value ?? nil else { continue }
                lines[value] = min(lines[value] ?? Int.max, entry.line)
            }
        }
        return lines
    }

    /// Puts list `id` with its entries in force in place of the old one, entries and all; in the
    /// caller's transaction. The row is made here, so a transaction run again starts from nothing.
    static func replaceWatchList(
        _ id: UUID, fileName: String?, entries: [WatchListEntryRow], uploadedBy: UUID, at now: Date,
        on database: any Database
    ) async throws -> WatchListRow {
        try await WatchListRow.query(on: database).delete()
        let list = WatchListRow()
        list.id = id
        list.fileName = fileName
        list.entries = entries.count
        list.uploadedBy = uploadedBy
        list.uploadedAt = now
        try await list.create(on: database)
        var insert = BulkInsert(
            into: WatchListEntryRow.schema,
            columns: ["id", "list_id", "line", "national_id_index", "phone_index", "identity_index", "reason"])
        for entry in entries {
            insert.append([
                .of(entry.id), .uuid(id), .int(entry.line), .of(entry.nationalIDIndex), .of(entry.phoneIndex),
                .of(entry.identityIndex), .of(entry.reason),
            ])
        }
        try await insert.run(on: database)
        return list
    }

    // MARK: Outcomes

    /// Writes each run's outcome onto its beneficiary, conditionally: only while that run is the
    /// beneficiary's latest and still pending, and it is live. Returns the runs that were
    /// written; the others were overtaken by a change committed since (which queued a newer run)
    /// or by another run of the same job. One statement per few hundred runs, so a job's batch
    /// is not a round trip (and a firing of the statistics' triggers) per beneficiary.
    static func settleBeneficiaries(
        _ settlements: [(beneficiary: UUID, run: UUID, status: BeneficiaryVerification, reason: String?)],
        on sql: any SQLDatabase
    ) async throws -> Set<UUID> {
        var applied: Set<UUID> = []
        // An enrolment's statistics trigger share-locks its beneficiaries in id order; an UPDATE
        // joined to a VALUES list locks them in whatever order the plan reads them. Both at once
        // on overlapping people deadlocked (an enrolment answered 500 while a registration's
        // checks ran), so the rows are locked here first, in the same order as the trigger's.
        let ordered = settlements.sorted { lhs, rhs in lhs.beneficiary.precedesInBytes(rhs.beneficiary) }
        for chunk in ordered.chunks(of: lookupChunk) {
            if sql.dialect.name == "postgresql" {
                try await sql.raw(
                    """
                    SELECT 1 FROM beneficiaries WHERE id = ANY(\(bind: chunk.map(\.beneficiary)))
                    ORDER BY id FOR NO KEY UPDATE
                    """
                ).run()
            }
            let values = SQLValuesTable(
                "v", columns: ["beneficiary", "run", "status", "reason"],
                rows: chunk.map { settlement in
                    [
                        SQLBind(settlement.beneficiary), SQLBind(settlement.run), SQLBind(settlement.status.rawValue),
                        SQLBind(settlement.reason),
                    ]
                })
            let rows = try await sql.raw(
                """
                UPDATE beneficiaries SET verification_status = v.status, verification_reason = v.reason
                FROM \(values)
                WHERE beneficiaries.id = v.beneficiary AND beneficiaries.verification_id = v.run
                    AND beneficiaries.verification_status = \(bind: BeneficiaryVerification.pending.rawValue)
                    AND beneficiaries.archived_at IS NULL
                RETURNING verification_id AS run
                """
            ).all()
            for row in rows { applied.insert(try row.decode(column: "run", as: UUID.self)) }
        }
        return applied
    }

    /// Records what still-pending runs found: each one's outcome, checks and reasons.
    static func recordOutcomes(
        _ outcomes: [(run: UUID, status: VerificationStatus, checks: String, reasons: String)], at now: Date,
        on sql: any SQLDatabase
    ) async throws {
        for chunk in outcomes.chunks(of: lookupChunk) {
            let values = SQLValuesTable(
                "v", columns: ["run", "status", "checks", "reasons"],
                rows: chunk.map { outcome in
                    [
                        SQLBind(outcome.run), SQLBind(outcome.status.rawValue), SQLBind(outcome.checks),
                        SQLBind(outcome.reasons),
                    ]
                })
            try await sql.raw(
                """
                UPDATE verifications SET status = v.status, checks = v.checks, reasons = v.reasons,
                    checked_at = \(bind: now)
                FROM \(values)
                WHERE verifications.id = v.run AND verifications.status = \(bind: VerificationStatus.pending.rawValue)
                """
            ).run()
        }
    }

    /// Marks still-pending runs superseded: a later change queued a newer run, which decides.
    static func supersede(_ runs: [UUID], at now: Date, on sql: any SQLDatabase) async throws {
        for chunk in runs.chunks(of: lookupChunk) {
            try await sql.update(VerificationRow.schema)
                .set("status", to: SQLBind(VerificationStatus.superseded.rawValue))
                .set("checked_at", to: SQLBind(now))
                .where("id", .in, SQLBind.group(Array(chunk)))
                .where("status", .equal, SQLBind(VerificationStatus.pending.rawValue))
                .run()
        }
    }

    /// Writes a reviewer's decision onto the beneficiary while `run` is its latest and needs
    /// review; false when a change or another reviewer got there first.
    static func decideBeneficiary(
        _ beneficiary: UUID, run: UUID, as status: BeneficiaryVerification, reason: String,
        on sql: any SQLDatabase
    ) async throws -> Bool {
        let changed = try await sql.update(BeneficiaryRow.schema)
            .set("verification_status", to: status.rawValue)
            .set("verification_reason", to: reason)
            .where("id", .equal, beneficiary).where("verification_id", .equal, run)
            .where("verification_status", .equal, BeneficiaryVerification.needsReview.rawValue)
            .returning("id").all()
        return !changed.isEmpty
    }

    /// Records a reviewer's decision, and their note, on the run.
    static func recordReview(
        _ run: UUID, by reviewer: UUID, decision: VerificationStatus, note: String, at now: Date,
        on sql: any SQLDatabase
    ) async throws {
        try await sql.update(VerificationRow.schema)
            .set("reviewer_id", to: reviewer).set("decision", to: decision.rawValue).set("note", to: note)
            .set("decided_at", to: now).set("status", to: decision.rawValue)
            .where("id", .equal, run).run()
    }
}
