import FluentKit
import Foundation

/// One KYC check run of a beneficiary: queued with the change that needs it, run by the
/// verification job, and for `needs_review` decided by a reviewer.
final class VerificationRow: Model, @unchecked Sendable {
    static let schema = "verifications"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "beneficiary_id") var beneficiaryID: UUID
    @Field(key: "status") var status: String
    /// The rules' findings as a JSON array of `{rule, result, detail}`.
    @Field(key: "checks") var checks: String
    /// The findings that decided the outcome, as a JSON array of strings.
    @Field(key: "reasons") var reasons: String
    @Field(key: "requested_by") var requestedBy: UUID
    @Field(key: "requested_at") var requestedAt: Date
    /// The job that runs this check, with others of the same batch.
    @Field(key: "job_id") var jobID: String
    @OptionalField(key: "checked_at") var checkedAt: Date?
    @OptionalField(key: "reviewer_id") var reviewerID: UUID?
    @OptionalField(key: "decision") var decision: String?
    @OptionalField(key: "note") var note: String?
    @OptionalField(key: "decided_at") var decidedAt: Date?

    init() {}
}

/// An uploaded watch list; the newest one is in force.
final class WatchListRow: Model, @unchecked Sendable {
    static let schema = "watch_lists"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @OptionalField(key: "file_name") var fileName: String?
    @Field(key: "entries") var entries: Int
    @Field(key: "uploaded_by") var uploadedBy: UUID
    @Field(key: "uploaded_at") var uploadedAt: Date

    init() {}
}

/// One person on a watch list, kept only as blind indexes (never in clear): a match needs the
/// same national ID, phone, or name with birth date.
final class WatchListEntryRow: Model, @unchecked Sendable {
    static let schema = "watch_list_entries"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "list_id") var listID: UUID
    @Field(key: "line") var line: Int
    @OptionalField(key: "national_id_index") var nationalIDIndex: String?
    @OptionalField(key: "phone_index") var phoneIndex: String?
    @OptionalField(key: "identity_index") var identityIndex: String?
    /// Why the person is listed, as the list says (not personal data of the beneficiary).
    @OptionalField(key: "reason") var reason: String?

    init() {}
}
