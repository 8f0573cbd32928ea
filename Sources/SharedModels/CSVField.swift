import Foundation

/// One field of a CSV file the platform writes (payout files, import rejects), as RFC 4180
/// wants it and as a spreadsheet cannot run: text a spreadsheet would read as a formula (`=`,
/// `+`, `-`, `@`, a tab or a carriage return first, and not a number) is prefixed with `'`.
package enum CSVField {
    /// `value`, guarded and quoted when it must be.
    package static func escape(_ value: String) -> String {
        var field = value
        // Scalars, not characters: "\r\n" is one Character, which a lone "\n" does not match.
        if let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Double(field) == nil {
            field = "'" + field
        }
        guard field.unicodeScalars.contains(where: { ",\"\r\n".unicodeScalars.contains($0) }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
