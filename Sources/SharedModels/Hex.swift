extension Sequence<UInt8> {
    /// Lowercase hexadecimal, two digits a byte; `String(format:)` per byte is orders of magnitude
    /// slower, and blind indexes are computed for every imported row.
    public var hexString: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(underestimatedCount * 2)
        for byte in self { appendHex(byte, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// Appends the two lowercase hexadecimal digits of `byte`.
func appendHex(_ byte: UInt8, to bytes: inout [UInt8]) {
    bytes.append(hexDigits[Int(byte >> 4)])
    bytes.append(hexDigits[Int(byte & 0x0f)])
}
