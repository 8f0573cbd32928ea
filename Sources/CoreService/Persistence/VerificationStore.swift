import FluentKit
import Foundation
import SQLKit

/// Check runs and the outcomes they write onto beneficiaries.
enum VerificationStore {
    /// Writes a run's outcome onto its beneficiary, conditionally: only while this run is its
    /// latest and still pending, and it is live. False when a change committed since (which
    /// queued a newer run) or another run of the same job got there first.
    static func settleBeneficiary(
        _ beneficiary: UUID, run: UUID, as status: BeneficiaryVerification, reason: String?,
        on sql: any SQLDatabase
    ) async throws -> Bool {
        let applied = try await sql.update(BeneficiaryRow.schema)
            .set("verification_status", to: status.rawValue)
            .set("verification_reason", to: reason)
            .where("id", .equal, beneficiary).where("verification_id", .equal, run)
            .where("verification_status", .equal, BeneficiaryVerification.pending.rawValue)
            .where("archived_at", .is, SQLLiteral.null)
            .returning("id").all()
        return !applied.isEmpty
    }

    /// Records what a still-pending run found: its outcome, checks and reasons.
    static func recordOutcome(
        _ run: UUID, as status: VerificationStatus, checks: String, reasons: String, at now: Date,
        on sql: any SQLDatabase
    ) async throws {
        try await sql.update(VerificationRow.schema)
            .set("status", to: status.rawValue)
            .set("checks", to: checks)
            .set("reasons", to: reasons)
            .set("checked_at", to: now)
            .where("id", .equal, run).where("status", .equal, VerificationStatus.pending.rawValue)
            .run()
    }

    /// Marks a still-pending run superseded: a later change queued a newer run, which decides.
    static func supersede(_ run: UUID, at now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update(VerificationRow.schema)
            .set("status", to: VerificationStatus.superseded.rawValue)
            .set("checked_at", to: now)
            .where("id", .equal, run).where("status", .equal, VerificationStatus.pending.rawValue)
            .run()
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
