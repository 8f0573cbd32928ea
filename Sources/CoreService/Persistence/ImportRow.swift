import FluentKit
import Foundation

final class ImportRow: Model, @unchecked Sendable {
    static let schema = "imports"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "format") var format: String
    @Field(key: "status") var status: String
    @OptionalField(key: "project_id") var projectID: UUID?
    @OptionalField(key: "group_id") var groupID: UUID?
    @Field(key: "on_duplicate") var onDuplicate: String
    @OptionalField(key: "default_country") var defaultCountry: String?
    @OptionalField(key: "file_name") var fileName: String?
    @Field(key: "sha256") var sha256: String
    @Field(key: "bytes") var bytes: Int
    @Field(key: "rows") var rows: Int
    @Field(key: "created") var created: Int
    @Field(key: "updated") var updated: Int
    @Field(key: "duplicates") var duplicates: Int
    @Field(key: "rejected") var rejected: Int
    /// The last line whose outcome is committed; a restarted run resumes after it.
    @Field(key: "processed_line") var processedLine: Int
    /// Until when the runner that claimed the import holds it; a later runner may take it over.
    @OptionalField(key: "lease_until") var leaseUntil: Date?
    /// Names the claim that holds the lease; every write a runner makes checks it still holds it.
    @OptionalField(key: "claim_token") var claimToken: UUID?
    /// How many times a runner has claimed the import: a file that stops every run is failed.
    @Field(key: "attempts") var attempts: Int
    @OptionalField(key: "error") var error: String?
    @Field(key: "created_by") var createdBy: UUID
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "started_at") var startedAt: Date?
    @OptionalField(key: "finished_at") var finishedAt: Date?

    init() {}
}

/// A piece of an uploaded file, in order; the file is kept in the database so whichever process
/// runs the import can read it.
final class ImportChunkRow: Model, @unchecked Sendable {
    static let schema = "import_chunks"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "import_id") var importID: UUID
    @Field(key: "seq") var seq: Int
    @Field(key: "data") var data: Data

    init() {}
}

final class ImportRejectRow: Model, @unchecked Sendable {
    static let schema = "import_rejects"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "import_id") var importID: UUID
    @Field(key: "line") var line: Int
    @Field(key: "column_name") var column: String
    @Field(key: "reason") var reason: String

    init() {}
}
