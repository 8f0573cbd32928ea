/// The shape of an email address every service accepts. Delivery is what truly validates an
/// address; this refuses what no mail system would deliver to, and what the API's
/// `format: email` refuses, so that an address the platform stores is one it describes.
package enum EmailAddress {
    /// Whether `email` (trimmed and lower-cased) is a local part of at most 64 characters
    /// without spaces, controls, specials or stray dots, `@`, and a domain of two or more
    /// dot-separated labels of letters, digits and inner hyphens.
    package static func isPlausible(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2 else { return false }
        return isLocalPart(parts[0]) && isDomain(parts[1])
    }

    private static let specials = Set("<>()[],;:\\\"@")

    private static func isLocalPart(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.count <= 64, text.first != ".", text.last != ".", !text.contains("..") else {
            return false
        }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value != 0x7F && !specials.contains(Character(scalar))
                && !scalar.properties.isWhitespace
        }
    }

    private static func isDomain(_ text: Substring) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, text.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }
}
