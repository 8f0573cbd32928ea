import FluentKit
import Foundation
import ServerKit
import SharedModels

extension BeneficiaryInput {
    /// A row of an import file; numbers that do not parse are reported under their column.
    init(importValues values: [String: String], defaultCountry: String?, into violations: inout [FieldViolation]) {
        func number(_ column: String) -> Double? {
            guard let text = values[column] else { return nil }
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                violations.append(FieldViolation(field: column, reason: "must be a number"))
                return nil
            }
            return value
        }
        self.init(
            name: values["name"],
            phone: values["phone"],
            email: values["email"],
            nationalID: values["nationalId"],
            gender: values["gender"]?.lowercased(),
            birthDate: values["birthDate"],
            location: values["location"],
            latitude: number("latitude"),
            longitude: number("longitude"),
            bankedStatus: values["bankedStatus"]?.lowercased(),
            internetStatus: values["internetStatus"]?.lowercased(),
            phoneStatus: values["phoneStatus"]?.lowercased(),
            walletAddress: values["walletAddress"],
            extrasJSON: values["extras"],
            defaultCountry: defaultCountry
        )
    }

    /// The fields this input gives a value for, as update field names.
    var presentFields: Set<String> {
        var fields: Set<String> = []
        if name != nil { fields.insert("name") }
        if phone != nil { fields.insert("phone") }
        if email != nil { fields.insert("email") }
        if nationalID != nil { fields.insert("nationalId") }
        if gender != nil { fields.insert("gender") }
        if birthDate != nil { fields.insert("birthDate") }
        if location != nil { fields.insert("location") }
        if latitude != nil { fields.insert("latitude") }
        if longitude != nil { fields.insert("longitude") }
        if bankedStatus != nil { fields.insert("bankedStatus") }
        if internetStatus != nil { fields.insert("internetStatus") }
        if phoneStatus != nil { fields.insert("phoneStatus") }
        if walletAddress != nil { fields.insert("walletAddress") }
        if extrasJSON != nil { fields.insert("extras") }
        return fields
    }
}

extension CoreDomain {
    /// Enrols beneficiaries an import created or updated, leaving existing enrolments alone.
    func enrolQuietly(
        _ ids: [UUID], in projectID: UUID, by userID: UUID, at now: Date, on db: any Database
    ) async throws {
        for chunk in ids.chunks(of: 500) {
            _ = try await enrolBatch(Array(chunk), in: projectID, type: .enrolled, by: userID, at: now, on: db)
        }
    }

    /// Adds beneficiaries an import created or updated to a group, leaving existing members alone.
    func addMembersQuietly(
        _ ids: [UUID], to groupID: UUID, by userID: UUID, at now: Date, on db: any Database
    ) async throws {
        for chunk in ids.chunks(of: 500) {
            _ = try await addMembersBatch(Array(chunk), to: groupID, by: userID, at: now, on: db)
        }
    }
}
