import FluentKit
import Foundation

final class BeneficiaryRow: Model, @unchecked Sendable {
    static let schema = "beneficiaries"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    /// Sealed personal data (see `PIIVault`); never stored in clear.
    @Field(key: "name_sealed") var nameSealed: String
    @OptionalField(key: "phone_sealed") var phoneSealed: String?
    @OptionalField(key: "email_sealed") var emailSealed: String?
    @OptionalField(key: "national_id_sealed") var nationalIDSealed: String?
    @OptionalField(key: "phone_index") var phoneIndex: String?
    @OptionalField(key: "national_id_index") var nationalIDIndex: String?
    @Field(key: "gender") var gender: String
    @OptionalField(key: "birth_date") var birthDate: String?
    @OptionalField(key: "location") var location: String?
    @OptionalField(key: "latitude") var latitude: Double?
    @OptionalField(key: "longitude") var longitude: Double?
    @Field(key: "banked_status") var bankedStatus: String
    @Field(key: "internet_status") var internetStatus: String
    @Field(key: "phone_status") var phoneStatus: String
    @OptionalField(key: "wallet_address") var walletAddress: String?
    @Field(key: "verification_status") var verificationStatus: String
    @OptionalField(key: "verification_reason") var verificationReason: String?
    @Field(key: "extras") var extras: String
    @Field(key: "created_by") var createdBy: UUID
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @OptionalField(key: "archived_at") var archivedAt: Date?

    init() {}
}
