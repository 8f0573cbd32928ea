import FluentKit
import Foundation
import SharedModels

final class GroupRow: Model, @unchecked Sendable {
    static let schema = "groups"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "name") var name: String
    @OptionalField(key: "description") var groupDescription: String?
    @Field(key: "purpose") var purpose: String
    @Field(key: "created_by") var createdBy: UUID
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

final class GroupMemberRow: Model, @unchecked Sendable {
    static let schema = "group_members"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "group_id") var groupID: UUID
    @Field(key: "beneficiary_id") var beneficiaryID: UUID
    @Field(key: "added_by") var addedBy: UUID
    @Field(key: "added_at") var addedAt: Date

    init() {}

    init(groupID: UUID, beneficiaryID: UUID, addedBy: UUID, at now: Date) {
        self.id = UUID.v7(at: now)
        self.groupID = groupID
        self.beneficiaryID = beneficiaryID
        self.addedBy = addedBy
        self.addedAt = now
    }
}
