import Foundation
import ServerKit
import SharedModels

/// Where a vendor's settlements are paid: a bank account or a mobile-money wallet.
enum PayoutAccount: Sendable, Equatable, Codable {
    case bank(bankName: String, accountName: String, accountNumber: String, branch: String?, bic: String?)
    case mobileMoney(provider: String, number: String)

    /// The account as received, before validation.
    struct Input: Sendable {
        var type: String?
        var bankName: String?
        var accountName: String?
        var accountNumber: String?
        var branch: String?
        var bic: String?
        var provider: String?
        var mobileNumber: String?
    }

    var type: String {
        switch self {
        case .bank: "bank"
        case .mobileMoney: "mobile_money"
        }
    }

    /// Validates `input`, naming each bad field under `prefix` (e.g. `payoutAccount.accountNumber`).
    static func validate(
        _ input: Input, defaultCountry: String?, prefix: String, into violations: inout [FieldViolation]
    ) -> PayoutAccount? {
        func field(_ name: String) -> String { "\(prefix).\(name)" }
        func text(_ value: String?, _ name: String, max: Int) -> String? {
            let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if trimmed.isEmpty {
                violations.append(FieldViolation(field: field(name), reason: "is required"))
                return nil
            }
            if trimmed.count > max {
                violations.append(FieldViolation(field: field(name), reason: "must be at most \(max) characters"))
                return nil
            }
            return trimmed
        }
        func optional(_ value: String?, _ name: String, max: Int) -> String? {
            guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            return text(value, name, max: max)
        }
        switch input.type {
        case "bank":
            let bankName = text(input.bankName, "bankName", max: 100)
            let accountName = text(input.accountName, "accountName", max: 200)
            let branch = optional(input.branch, "branch", max: 100)
            var accountNumber: String?
            if let raw = text(input.accountNumber, "accountNumber", max: 50) {
                let compact = raw.uppercased().filter { !" -".contains($0) }
                if !(4...34).contains(compact.count)
                    || !compact.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
                {
                    violations.append(
                        FieldViolation(
                            field: field("accountNumber"),
                            reason: "must be 4–34 letters or digits (spaces and dashes allowed)"
                        ))
                } else if looksLikeIBAN(compact) && !isValidIBAN(compact) {
                    violations.append(
                        FieldViolation(
                            field: field("accountNumber"), reason: "is an IBAN whose check digits do not match"))
                } else {
                    accountNumber = compact
                }
            }
            var bic: String?
            if let raw = optional(input.bic, "bic", max: 11) {
                let upper = raw.uppercased()
                if isValidBIC(upper) {
                    bic = upper
                } else {
                    violations.append(
                        FieldViolation(field: field("bic"), reason: "must be a SWIFT/BIC code of 8 or 11 characters"))
                }
            }
            guard let bankName, let accountName, let accountNumber else { return nil }
            return .bank(
                bankName: bankName, accountName: accountName, accountNumber: accountNumber, branch: branch, bic: bic)
        case "mobile_money":
            let provider = text(input.provider, "provider", max: 100)
            var number: String?
            if let raw = text(input.mobileNumber, "mobileNumber", max: 32) {
                switch PhoneNumber.parse(raw, defaultCountry: defaultCountry) {
                case .success(let parsed): number = parsed.e164
                case .failure(let problem):
                    violations.append(FieldViolation(field: field("mobileNumber"), reason: problem.description))
                }
            }
            guard let provider, let number else { return nil }
            return .mobileMoney(provider: provider, number: number)
        case nil:
            violations.append(FieldViolation(field: field("type"), reason: "is required"))
            return nil
        default:
            violations.append(FieldViolation(field: field("type"), reason: "must be one of bank, mobile_money"))
            return nil
        }
    }

    /// Two letters (the country) then two check digits: the shape every IBAN has.
    static func looksLikeIBAN(_ text: String) -> Bool {
        let characters = Array(text)
        return characters.count >= 15 && characters[0].isLetter && characters[1].isLetter && characters[2].isNumber
            && characters[3].isNumber
    }

    /// ISO 13616: move the first four characters to the end, letters become 10–35, the number mod 97 is 1.
    static func isValidIBAN(_ text: String) -> Bool {
        let rearranged = text.dropFirst(4) + text.prefix(4)
        var remainder = 0
        for character in rearranged {
            guard
                let value = character.isNumber ? character.wholeNumberValue : character.asciiValue.map({ Int($0) - 55 })
            else { return false }
            for digit in String(value) {
                remainder = (remainder * 10 + (digit.wholeNumberValue ?? 0)) % 97
            }
        }
        return remainder == 1
    }

    /// ISO 9362: 4 letters (bank), 2 letters (country), 2 letters or digits (location), optional 3 (branch).
    static func isValidBIC(_ text: String) -> Bool {
        let characters = Array(text)
        guard characters.count == 8 || characters.count == 11,
            characters.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return false }
        return characters[0..<6].allSatisfy(\.isLetter)
    }
}
