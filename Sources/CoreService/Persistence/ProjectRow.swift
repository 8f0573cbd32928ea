import FluentKit
import Foundation

final class ProjectRow: Model, @unchecked Sendable {
    static let schema = "projects"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "name") var name: String
    @OptionalField(key: "description") var projectDescription: String?
    @Field(key: "type") var type: String
    @Field(key: "status") var status: String
    @Field(key: "asset") var asset: String
    @Field(key: "asset_scale") var assetScale: Int
    @Field(key: "settings") var settings: String
    @OptionalField(key: "default_country") var defaultCountry: String?
    @Field(key: "created_by") var createdBy: UUID
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @OptionalField(key: "activated_at") var activatedAt: Date?
    @OptionalField(key: "closed_at") var closedAt: Date?

    init() {}
}
