import Foundation
import ServerKit
import SharedModels

/// The KYC rules an installation sets.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_KYC_REQUIRED_FIELDS` | `name,birthDate` | what a beneficiary must have to be verified: any of name, phone, email, nationalId, birthDate, gender, location |
/// | `RAHAT_KYC_COUNTRY` | none | ISO 3166-1 alpha-2 country whose phones and national IDs beneficiaries hold, when none of their projects names one |
/// | `RAHAT_KYC_NATIONAL_ID_FORMATS` | none | `CC=regex;CC=regex…`: the national-ID pattern per country, matched whole against the ID in capitals without spaces, dashes or slashes |
package struct KYCRules: Sendable, Equatable {
    /// Fields a verified beneficiary has.
    package var requiredFields: [String]
    /// The country assumed when a beneficiary's projects name none.
    package var country: String?
    /// Regular expressions by country code.
    package var nationalIDFormats: [String: String]

    /// The fields the required-fields rule can ask for.
    package static let checkableFields: Set<String> = [
        "name", "phone", "email", "nationalId", "birthDate", "gender", "location",
    ]

    package init(
        requiredFields: [String] = ["name", "birthDate"], country: String? = nil,
        nationalIDFormats: [String: String] = [:]
    ) {
        self.requiredFields = requiredFields
        self.country = country
        self.nationalIDFormats = nationalIDFormats
    }

    init(from source: inout ConfigurationSource) {
        self.init()
        let fields = source.string("RAHAT_KYC_REQUIRED_FIELDS", default: "name,birthDate")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let unknown = fields.filter { !Self.checkableFields.contains($0) }
        if !unknown.isEmpty {
            source.report(
                "RAHAT_KYC_REQUIRED_FIELDS: unknown \(unknown.joined(separator: ", ")); "
                    + "choose from \(Self.checkableFields.sorted().joined(separator: ", "))")
        }
        requiredFields = fields
        if let country = source.raw("RAHAT_KYC_COUNTRY") {
            if Self.isCountryCode(country), PhoneNumber.callingCode(of: country) != nil {
                self.country = country.uppercased()
            } else {
                source.report(
                    "RAHAT_KYC_COUNTRY: '\(country)' is not an ISO 3166-1 alpha-2 code whose phone numbers are known, like NP"
                )
            }
        }
        let formats = source.string("RAHAT_KYC_NATIONAL_ID_FORMATS", default: "")
        for entry in formats.split(separator: ";") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, Self.isCountryCode(parts[0]), (try? Regex(parts[1])) != nil else {
                source.report(
                    "RAHAT_KYC_NATIONAL_ID_FORMATS: '\(entry)' is not COUNTRY=regular-expression (e.g. NP=[0-9]{11})")
                continue
            }
            nationalIDFormats[parts[0].uppercased()] = parts[1]
        }
    }

    static func isCountryCode(_ text: String) -> Bool {
        text.count == 2 && text.allSatisfy { $0.isASCII && $0.isLetter }
    }
}
