import FluentKit
import Foundation

final class EnrolmentRow: Model, @unchecked Sendable {
    static let schema = "enrolments"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "project_id") var projectID: UUID
    @Field(key: "beneficiary_id") var beneficiaryID: UUID
    @Field(key: "type") var type: String
    @Field(key: "enrolled_by") var enrolledBy: UUID
    @Field(key: "enrolled_at") var enrolledAt: Date

    init() {}
}
