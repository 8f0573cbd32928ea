import FluentKit
import Foundation
import Persistence

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
    /// The check run whose outcome the status shows (or will show, while `pending`).
    @OptionalField(key: "verification_id") var verificationID: UUID?
    /// Blind index of the normalised name with the birth date: likely duplicates share it.
    @OptionalField(key: "identity_index") var identityIndex: String?
    @Field(key: "extras") var extras: String
    @Field(key: "created_by") var createdBy: UUID
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @OptionalField(key: "archived_at") var archivedAt: Date?
    /// When the phone last changed on this record (not when it was first given).
    @OptionalField(key: "phone_changed_at") var phoneChangedAt: Date?
    /// Blind indexes of the name's words when the name was just written, for ``BeneficiaryStore``
    /// to store beside the row (in `beneficiary_name_words`); nil when the name is unchanged.
    var nameWordIndexes: [String]?

    init() {}
}

extension BeneficiaryRow {
    /// Every column, in the order of ``insertValues``, for bulk inserts.
    static let insertColumns = [
        "id", "name_sealed", "phone_sealed", "email_sealed", "national_id_sealed", "phone_index", "national_id_index",
        "gender", "birth_date", "location", "latitude", "longitude", "banked_status", "internet_status", "phone_status",
        "wallet_address", "verification_status", "verification_reason", "verification_id", "identity_index", "extras",
        "created_by", "created_at",
        "updated_at", "archived_at", "phone_changed_at",
    ]

    /// The row's values in the order of ``insertColumns``.
    var insertValues: [BulkValue] {
        [
            .of(id), .text(nameSealed), .of(phoneSealed), .of(emailSealed), .of(nationalIDSealed), .of(phoneIndex),
            .of(nationalIDIndex), .text(gender), .of(birthDate), .of(location), .of(latitude), .of(longitude),
            .text(bankedStatus), .text(internetStatus), .text(phoneStatus), .of(walletAddress),
            .text(verificationStatus), .of(verificationReason), .of(verificationID), .of(identityIndex), .text(extras),
            .uuid(createdBy), .date(createdAt),
            .date(updatedAt), .of(archivedAt), .of(phoneChangedAt),
        ]
    }
}
