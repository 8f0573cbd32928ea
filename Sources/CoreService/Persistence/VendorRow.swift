import FluentKit
import Foundation

final class VendorRow: Model, @unchecked Sendable {
    static let schema = "vendors"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "name") var name: String
    @OptionalField(key: "phone") var phone: String?
    @OptionalField(key: "email") var email: String?
    @OptionalField(key: "location") var location: String?
    @Field(key: "payout_type") var payoutType: String
    @OptionalField(key: "bank_name") var bankName: String?
    @OptionalField(key: "account_name") var accountName: String?
    @OptionalField(key: "account_number") var accountNumber: String?
    @OptionalField(key: "branch") var branch: String?
    @OptionalField(key: "bic") var bic: String?
    @OptionalField(key: "provider") var provider: String?
    @OptionalField(key: "mobile_number") var mobileNumber: String?
    @Field(key: "status") var status: String
    @Field(key: "created_by") var createdBy: UUID
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @OptionalField(key: "deactivated_at") var deactivatedAt: Date?

    init() {}
}

final class ProjectVendorRow: Model, @unchecked Sendable {
    static let schema = "project_vendors"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "project_id") var projectID: UUID
    @Field(key: "vendor_id") var vendorID: UUID
    @Field(key: "assigned_by") var assignedBy: UUID
    @Field(key: "assigned_at") var assignedAt: Date

    init() {}
}
