import Foundation
import ServerKit
import SharedModels

/// Rules for what users type, checked before anything is written.
enum InputValidation {
    static let maxNameLength = 200
    static let maxEmailLength = 254
    static let maxPhoneLength = 32

    /// Normalises an email (trimmed, lower-cased) and checks its shape (`EmailAddress`).
    static func email(_ raw: String, field: String = "email", into violations: inout [FieldViolation]) -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if email.isEmpty {
            violations.append(FieldViolation(field: field, reason: "is required"))
            return email
        }
        if email.utf8.count > maxEmailLength {
            violations.append(FieldViolation(field: field, reason: "must be at most \(maxEmailLength) characters"))
            return email
        }
        guard EmailAddress.isPlausible(email) else {
            violations.append(FieldViolation(field: field, reason: "is not a valid email address"))
            return email
        }
        return email
    }

    static func name(_ raw: String, field: String = "name", into violations: inout [FieldViolation]) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty {
            violations.append(FieldViolation(field: field, reason: "is required"))
        } else if name.count > maxNameLength {
            violations.append(FieldViolation(field: field, reason: "must be at most \(maxNameLength) characters"))
        } else if name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) {
            violations.append(FieldViolation(field: field, reason: "must not contain control characters"))
        }
        return name
    }

    /// A phone in international form: `+`, then 8–15 digits (E.164); spaces, dashes, dots and
    /// parentheses are removed first.
    static func phone(_ raw: String, field: String = "phone", into violations: inout [FieldViolation]) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let compact = trimmed.filter { !" -.()".contains($0) }
        let digits = compact.dropFirst()
        guard trimmed.count <= maxPhoneLength, compact.hasPrefix("+"), (8...15).contains(digits.count),
            digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), digits.first != "0"
        else {
            violations.append(
                FieldViolation(field: field, reason: "must be an international number like +9779812345678"))
            return trimmed
        }
        return compact
    }

    /// A BCP 47 language tag as the console names its languages: a 2–3 letter language, then
    /// optional subtags (`ne`, `en-GB`); stored with the language lower-cased.
    static func locale(_ raw: String, into violations: inout [FieldViolation]) -> String {
        let parts = raw.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        let valid =
            parts.count <= 4 && parts.first.map { (2...3).contains($0.count) && $0.allSatisfy(\.isLetter) } == true
            && parts.dropFirst().allSatisfy {
                (2...8).contains($0.count) && $0.allSatisfy { $0.isLetter || $0.isNumber }
            }
            && parts.joined().allSatisfy(\.isASCII)
        guard valid, let language = parts.first else {
            violations.append(FieldViolation(field: "locale", reason: "must be a language tag like ne or en-GB"))
            return raw
        }
        return ([language.lowercased()] + parts.dropFirst().map(String.init)).joined(separator: "-")
    }

    /// A time zone this system knows by its IANA name, such as `Asia/Kathmandu` or `UTC`.
    static func timeZone(_ raw: String, into violations: inout [FieldViolation]) -> String {
        let name = raw.trimmingCharacters(in: .whitespaces)
        guard name.count <= 64, TimeZone(identifier: name) != nil else {
            violations.append(
                FieldViolation(field: "timeZone", reason: "must be an IANA time zone like Asia/Kathmandu"))
            return name
        }
        return name
    }
}

/// The password rules, documented in the README and the OpenAPI contract.
///
/// Length matters more than character classes (NIST SP 800-63B): at least 12 characters, at most
/// 72 bytes (bcrypt ignores anything beyond), not mostly one character, not the email, and not
/// on a list of the most common passwords.
enum PasswordPolicy {
    static let minimumCharacters = 12
    static let maximumBytes = 72

    static func check(_ password: String, email: String?, field: String = "password") -> [FieldViolation] {
        var reasons: [String] = []
        if password.count < minimumCharacters {
            reasons.append("must be at least \(minimumCharacters) characters")
        }
        if password.utf8.count > maximumBytes {
            reasons.append("must be at most \(maximumBytes) bytes")
        }
        if password.count >= minimumCharacters, Set(password).count < 4 {
            reasons.append("must not be mostly one repeated character")
        }
        let lowered = password.lowercased()
        if let email, !email.isEmpty, lowered == email || lowered == email.split(separator: "@").first.map(String.init)
        {
            reasons.append("must not be your email address")
        }
        if commonPasswords.contains(lowered) {
            reasons.append("is a commonly used password")
        }
        return reasons.map { FieldViolation(field: field, reason: $0) }
    }

    private static let commonPasswords: Set<String> = [
        "123456789012", "1234567890123", "12345678901234", "qwertyuiopas", "qwerty123456", "password1234",
        "password12345", "passwordpassword", "iloveyou1234", "administrator", "admin1234567", "welcome12345",
        "letmein12345", "changeme1234", "123123123123", "abcdefghijkl", "abc123456789", "111111111111",
        "000000000000", "aaaaaaaaaaaa", "qwertyqwerty", "1q2w3e4r5t6y", "zaq12wsxcde3", "football1234",
        "baseball1234", "monkey123456", "dragon123456", "sunshine1234", "princess1234", "superman1234",
        "trustno11234", "passw0rd1234", "p@ssw0rd1234", "p@ssword1234", "computer1234", "internet1234",
    ]
}
