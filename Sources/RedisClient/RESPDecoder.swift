package import NIOCore

/// Incremental RESP2/RESP3 parser: partially received aggregates are kept on a stack, so bytes of completed
/// elements are consumed once and never re-parsed when the rest of a large reply arrives.
package struct RESPDecoder: Sendable {
    private enum AggregateKind: Sendable {
        case array, set, push, map, attribute
    }

    private struct Frame: Sendable {
        var kind: AggregateKind
        var remaining: Int
        var elements: [RESPValue]
    }

    private enum Step {
        case value(RESPValue)
        case startedAggregate
        case needMoreData
    }

    /// Deep nesting is legal RESP but only an attacker or a bug produces it; bounding it bounds memory and stack.
    private static let maximumDepth = 512

    private var stack: [Frame] = []

    /// Creates a decoder with no partial state.
    package init() {}

    /// Consumes bytes for the next complete top-level value; nil (with `buffer` positioned to resume) when more
    /// bytes are needed. Attributes (`|`) are parsed and dropped.
    package mutating func decode(_ buffer: inout ByteBuffer) throws(RedisError) -> RESPValue? {
        while true {
            switch try self.step(&buffer) {
            case .needMoreData:
                return nil
            case .startedAggregate:
                continue
            case .value(var value):
                folding: while true {
                    guard var top = self.stack.popLast() else { return value }
                    top.elements.append(value)
                    top.remaining -= 1
                    if top.remaining > 0 {
                        self.stack.append(top)
                        break folding
                    }
                    // A completed attribute annotates whatever follows, so its parent gains no element from it.
                    guard let built = Self.build(top) else { break folding }
                    value = built
                }
            }
        }
    }

    /// True when no partially decoded aggregate is pending.
    package var isIdle: Bool { self.stack.isEmpty }

    private static func build(_ frame: Frame) -> RESPValue? {
        switch frame.kind {
        case .array: return .array(frame.elements)
        case .set: return .set(frame.elements)
        case .push: return .push(frame.elements)
        case .map: return .map(Self.pairs(frame.elements))
        case .attribute: return nil
        }
    }

    private static func pairs(_ flat: [RESPValue]) -> [RESPMapEntry] {
        var entries: [RESPMapEntry] = []
        entries.reserveCapacity(flat.count / 2)
        var index = 0
        while index + 1 < flat.count {
            entries.append(RESPMapEntry(key: flat[index], value: flat[index + 1]))
            index += 2
        }
        return entries
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws(RedisError) -> Step {
        let start = buffer.readerIndex
        guard let marker: UInt8 = buffer.getInteger(at: start),
            let lineEnd = Self.findCRLF(buffer, from: start + 1)
        else {
            return .needMoreData
        }
        let lineStart = start + 1
        let lineLength = lineEnd - lineStart
        let afterLine = lineEnd + 2

        switch marker {
        case UInt8(ascii: "+"):
            let text = buffer.getString(at: lineStart, length: lineLength) ?? ""
            buffer.moveReaderIndex(to: afterLine)
            return .value(.simpleString(text))
        case UInt8(ascii: "-"):
            let text = buffer.getString(at: lineStart, length: lineLength) ?? ""
            buffer.moveReaderIndex(to: afterLine)
            return .value(.error(text))
        case UInt8(ascii: ":"):
            let number = try Self.parseInteger(buffer, at: lineStart, length: lineLength)
            buffer.moveReaderIndex(to: afterLine)
            return .value(.integer(number))
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            let length = try Self.parseInteger(buffer, at: lineStart, length: lineLength)
            if length == -1 {
                buffer.moveReaderIndex(to: afterLine)
                return .value(.null)
            }
            guard length >= 0, length <= Int64(Int32.max) else {
                throw .protocolViolation("invalid bulk length \(length)")
            }
            let count = Int(length)
            // The whole payload is checked for before anything is consumed, so a 10 MB value arriving in
            // many reads costs one header parse per read, not a rescan of the payload.
            guard buffer.writerIndex - afterLine >= count + 2 else { return .needMoreData }
            guard buffer.getInteger(at: afterLine + count, as: UInt16.self) == 0x0D0A else {
                throw .protocolViolation("bulk string not terminated by CRLF")
            }
            buffer.moveReaderIndex(to: afterLine)
            let value: RESPValue
            switch marker {
            case UInt8(ascii: "$"):
                value = .bulkString(buffer.readSlice(length: count) ?? ByteBuffer())
            case UInt8(ascii: "!"):
                value = .error(buffer.readString(length: count) ?? "")
            default:
                // Verbatim strings start with a three-letter format and a colon, e.g. `txt:`.
                let text = buffer.readString(length: count) ?? ""
                value = .verbatimString(count >= 4 ? String(text.dropFirst(4)) : text)
            }
            buffer.moveReaderIndex(forwardBy: 2)
            return .value(value)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let declared = try Self.parseInteger(buffer, at: lineStart, length: lineLength)
            buffer.moveReaderIndex(to: afterLine)
            if declared == -1 { return .value(.null) }
            guard declared >= 0, declared <= Int64(Int32.max) else {
                throw .protocolViolation("invalid aggregate length \(declared)")
            }
            let kind: AggregateKind
            switch marker {
            case UInt8(ascii: "*"): kind = .array
            case UInt8(ascii: "~"): kind = .set
            case UInt8(ascii: ">"): kind = .push
            case UInt8(ascii: "%"): kind = .map
            default: kind = .attribute
            }
            let elementCount = (kind == .map || kind == .attribute) ? Int(declared) * 2 : Int(declared)
            if elementCount == 0 {
                guard let empty = Self.build(Frame(kind: kind, remaining: 0, elements: [])) else {
                    return .startedAggregate
                }
                return .value(empty)
            }
            guard self.stack.count < Self.maximumDepth else {
                throw .protocolViolation("reply nested deeper than \(Self.maximumDepth)")
            }
            // Capacity is capped so a hostile length cannot make us allocate ahead of the bytes arriving.
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(elementCount, 1024))
            self.stack.append(Frame(kind: kind, remaining: elementCount, elements: elements))
            return .startedAggregate
        case UInt8(ascii: "_"):
            buffer.moveReaderIndex(to: afterLine)
            return .value(.null)
        case UInt8(ascii: "#"):
            let flag: UInt8? = lineLength == 1 ? buffer.getInteger(at: lineStart) : nil
            buffer.moveReaderIndex(to: afterLine)
            switch flag {
            case UInt8(ascii: "t"): return .value(.boolean(true))
            case UInt8(ascii: "f"): return .value(.boolean(false))
            default: throw .protocolViolation("invalid boolean")
            }
        case UInt8(ascii: ","):
            let text = buffer.getString(at: lineStart, length: lineLength) ?? ""
            buffer.moveReaderIndex(to: afterLine)
            switch text {
            case "inf", "+inf": return .value(.double(.infinity))
            case "-inf": return .value(.double(-.infinity))
            case "nan", "-nan": return .value(.double(.nan))
            default:
                guard let number = Double(text) else { throw .protocolViolation("invalid double '\(text)'") }
                return .value(.double(number))
            }
        case UInt8(ascii: "("):
            let text = buffer.getString(at: lineStart, length: lineLength) ?? ""
            buffer.moveReaderIndex(to: afterLine)
            return .value(.bigNumber(text))
        default:
            throw .protocolViolation("unknown type byte 0x\(String(marker, radix: 16))")
        }
    }

    private static func findCRLF(_ buffer: ByteBuffer, from index: Int) -> Int? {
        guard index < buffer.writerIndex else { return nil }
        return buffer.withUnsafeReadableBytes { bytes -> Int? in
            let offset = index - buffer.readerIndex
            var position = offset
            let end = bytes.count - 1
            while position < end {
                if bytes[position] == 0x0D, bytes[position + 1] == 0x0A {
                    return buffer.readerIndex + position
                }
                position += 1
            }
            return nil
        }
    }

    private static func parseInteger(_ buffer: ByteBuffer, at index: Int, length: Int) throws(RedisError) -> Int64 {
        guard length > 0, length <= 20 else { throw .protocolViolation("invalid integer length \(length)") }
        let parsed = buffer.withUnsafeReadableBytes { bytes -> Int64? in
            let offset = index - buffer.readerIndex
            var position = offset
            let end = offset + length
            var negative = false
            if bytes[position] == UInt8(ascii: "-") {
                negative = true
                position += 1
            } else if bytes[position] == UInt8(ascii: "+") {
                position += 1
            }
            guard position < end else { return nil }
            var result: Int64 = 0
            while position < end {
                let digit = bytes[position] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                let (multiplied, overflow1) = result.multipliedReportingOverflow(by: 10)
                let (added, overflow2) = multiplied.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { return nil }
                result = added
                position += 1
            }
            return negative ? -result : result
        }
        guard let parsed else { throw .protocolViolation("invalid integer") }
        return parsed
    }
}
