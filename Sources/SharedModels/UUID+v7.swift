public import Foundation

extension UUID {
    /// A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then random bits.
    ///
    /// Ordering by a v7 id orders by creation time, which keeps B-tree inserts local and makes
    /// keyset pagination on the id stable under concurrent inserts.
    public static func v7(at date: Date = Date()) -> UUID {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        // Two 64-bit draws, not one per byte: each draw may be a system call.
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        func byte(_ value: UInt64, _ index: Int) -> UInt8 {
            UInt8(truncatingIfNeeded: value >> UInt64(8 * (7 - index)))
        }
        return UUID(
            uuid: (
                byte(milliseconds << 16, 0), byte(milliseconds << 16, 1), byte(milliseconds << 16, 2),
                byte(milliseconds << 16, 3), byte(milliseconds << 16, 4), byte(milliseconds << 16, 5),
                (byte(high, 6) & 0x0F) | 0x70, byte(high, 7),
                (byte(low, 0) & 0x3F) | 0x80, byte(low, 1), byte(low, 2), byte(low, 3), byte(low, 4), byte(low, 5),
                byte(low, 6), byte(low, 7)
            )
        )
    }

    /// The canonical lower-case text form used on every wire and in every log. Formatted here
    /// rather than by `uuidString`, which goes through `sprintf` on Linux and showed in profiles
    /// of imports (several ids per row).
    public var lowercasedString: String {
        String(unsafeUninitializedCapacity: Self.lowercasedLength) { buffer in
            writeLowercased(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Bytes in the text form.
    public static let lowercasedLength = 36

    /// Writes the UTF-8 of ``lowercasedString`` at the start of `buffer` (at least 36 bytes) and
    /// returns how many it wrote: for hashing and `COPY`, which need the bytes, not a `String`.
    @discardableResult
    public func writeLowercased(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= Self.lowercasedLength, "a UUID's text takes 36 bytes")
        var offset = 0
        withUnsafeBytes(of: uuid) { bytes in
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[offset] = UInt8(ascii: "-")
                    offset += 1
                }
                buffer[offset] = hexDigits[Int(byte >> 4)]
                buffer[offset + 1] = hexDigits[Int(byte & 0x0F)]
                offset += 2
            }
        }
        return offset
    }
}
