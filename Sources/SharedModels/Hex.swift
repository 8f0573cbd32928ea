extension Sequence<UInt8> {
    /// Lowercase hexadecimal, two digits a byte; `String(format:)` per byte is orders of magnitude
    /// slower, and blind indexes are computed for every imported row.
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
