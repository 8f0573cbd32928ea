package import Foundation

extension UUID {
    /// A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then random bits.
    ///
    /// Ordering by a v7 id orders by creation time, which keeps B-tree inserts local and makes
    /// keyset pagination on the id stable under concurrent inserts.
    package static func v7(at date: Date = Date()) -> UUID {
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

    /// Whether this id sorts before `other` as PostgreSQL orders uuids: by their bytes. Rows
    /// locked in this order by every writer cannot deadlock on each other; compared on the bytes,
    /// not on text formatted per comparison.
    package func precedesInBytes(_ other: UUID) -> Bool {
        withUnsafeBytes(of: uuid) { left in
            withUnsafeBytes(of: other.uuid) { right in left.lexicographicallyPrecedes(right) }
        }
    }

    /// The instant a version 7 id was made (to the millisecond); nil for other versions.
    package var v7Date: Date? {
        let bytes = uuid
        guard bytes.6 >> 4 == 7 else { return nil }
        let milliseconds = [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5].reduce(UInt64(0)) {
            $0 << 8 | UInt64($1)
        }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The canonical lower-case text form used on every wire and in every log. Formatted here
    /// rather than by `uuidString`, which goes through `sprintf` on Linux and showed in profiles
    /// of imports (several ids per row).
    package var lowercasedString: String {
        String(unsafeUninitializedCapacity: Self.lowercasedLength) { buffer in
            writeLowercased(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Bytes in the text form.
    package static let lowercasedLength = 36

    /// Writes the UTF-8 of ``lowercasedString`` at the start of `buffer` (at least 36 bytes) and
    /// returns how many it wrote: for hashing and `COPY`, which need the bytes, not a `String`.
    @discardableResult
    package func writeLowercased(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= Self.lowercasedLength, "a UUID's text takes 36 bytes")
        var offset = 0
        withUnsafeBytes(of: uuid) { bytes in
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[offset] = UInt8(ascii: "-")
                    offset += 1
                }
                buffer[offset] = hexDigit(byte >> 4)
                buffer[offset + 1] = hexDigit(byte & 0x0F)
                offset += 2
            }
        }
        return offset
    }

    /// Parses the 36-character text form, hexadecimal digits in either case, hyphens where the
    /// form has them. Stricter than `UUID(uuidString:)`, which scans hexadecimal wherever the
    /// hyphens are, and faster: that goes through the C library's `sscanf` on Linux, which showed
    /// in profiles of ledger batches (three ids a transfer).
    package static func parse(_ text: String) -> UUID? {
        var text = text
        return text.withUTF8 { utf8 -> UUID? in
            guard utf8.count == lowercasedLength else { return nil }
            var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            func value(_ character: UInt8) -> UInt8? {
                switch character {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
                default: nil
                }
            }
            let parsed = withUnsafeMutableBytes(of: &bytes) { output -> Bool in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        guard utf8[position] == UInt8(ascii: "-") else { return false }
                        position += 1
                    }
                    guard let high = value(utf8[position]), let low = value(utf8[position + 1]) else { return false }
                    output[index] = high << 4 | low
                    position += 2
                }
                return true
            }
            return parsed ? UUID(uuid: bytes) : nil
        }
    }
}
