extension Sequence<UInt8> {
    /// Lowercase hexadecimal, two digits a byte; `String(format:)` per byte is orders of magnitude
    /// slower, and blind indexes are computed for every imported row.
    package var hexString: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(underestimatedCount * 2)
        for byte in self { appendHex(byte, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The lowercase hexadecimal digit of `nibble` (0–15). Computed, not looked up in a table: a
/// global array costs a lazy-initialisation check on every access.
@inline(__always)
func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
}

/// Appends the two lowercase hexadecimal digits of `byte`.
func appendHex(_ byte: UInt8, to bytes: inout [UInt8]) {
    bytes.append(hexDigit(byte >> 4))
    bytes.append(hexDigit(byte & 0x0f))
}
