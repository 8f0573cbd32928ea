/// The shape of a Rahat API key, `rhk_<8 hex>_<base64url secret>`. It is public on purpose: the
/// gateway refuses what cannot be a key without asking the auth service (so refusing it costs
/// nothing and needs no throttle), and secret scanners can recognise a leaked one.
package enum ApiKeyShape {
    /// What every key starts with.
    package static let scheme = "rhk_"
    /// The scheme and the eight hex digits that find a key's row.
    package static let prefixLength = scheme.count + 8

    /// Whether `key` has the shape of a key; whether it is one, only the auth service knows.
    package static func isWellFormed(_ key: String) -> Bool {
        let utf8 = Array(key.utf8)
        guard key.hasPrefix(scheme), utf8.count > prefixLength + 1, utf8.count < 200,
            utf8[prefixLength] == UInt8(ascii: "_")
        else { return false }
        let hex = utf8[scheme.utf8.count..<prefixLength]
        let secret = utf8[(prefixLength + 1)...]
        return hex.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
            && secret.allSatisfy { byte in
                (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 45
                    || byte == 95
            }
    }
}
