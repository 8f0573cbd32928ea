import FluentKit
import Foundation
import SQLKit

/// The statements of an import's run: claiming it, holding its lease, giving it back.
enum ImportStore {
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
