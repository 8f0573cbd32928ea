package import NIOCore

/// A decoded Redis reply; RESP2 replies map onto the RESP3 cases they correspond to.
package enum RESPValue: Sendable, Hashable {
    /// `+OK`-style status reply.
    case simpleString(String)
    /// An error reply; `RedisClient.send` throws these as `RedisError.server` instead of returning them.
    case error(String)
    /// `:` integer reply.
    case integer(Int64)
    /// `$` bulk string reply, kept as bytes because values are often binary.
    case bulkString(ByteBuffer)
    /// RESP3 `_`, or RESP2 `$-1` / `*-1`.
    case null
    /// `*` array reply.
    case array([RESPValue])
    /// RESP3 `%` map reply, in server order (RESP2 servers send flat arrays instead).
    case map([RESPMapEntry])
    /// RESP3 `~` set reply.
    case set([RESPValue])
    /// RESP3 `,` double reply.
    case double(Double)
    /// RESP3 `#` boolean reply.
    case boolean(Bool)
    /// RESP3 `(` big number reply, as its decimal text.
    case bigNumber(String)
    /// RESP3 `=` verbatim string reply, without its three-letter format prefix.
    case verbatimString(String)
    /// RESP3 `>` out-of-band push frame (pub/sub messages, invalidations).
    case push([RESPValue])
}

/// One key/value pair of a RESP3 map; a struct because tuples can be neither `Hashable` nor stored in a `Hashable` enum.
package struct RESPMapEntry: Sendable, Hashable {
    /// The entry's key.
    package var key: RESPValue
    /// The entry's value.
    package var value: RESPValue

    /// Creates an entry.
    package init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue {
    /// The value as text for string-like replies (and integers/doubles rendered as decimal), else nil.
    package var string: String? {
        switch self {
        case .simpleString(let text), .verbatimString(let text), .bigNumber(let text), .error(let text):
            return text
        case .bulkString(let buffer):
            return String(buffer: buffer)
        case .integer(let value):
            return String(value)
        case .double(let value):
            return String(value)
        default:
            return nil
        }
    }

    /// The value as an `Int` for integer replies and decimal bulk/simple strings, else nil.
    package var int: Int? {
        switch self {
        case .integer(let value):
            return Int(exactly: value)
        case .bulkString(let buffer):
            return Int(String(buffer: buffer))
        case .simpleString(let text), .bigNumber(let text):
            return Int(text)
        default:
            return nil
        }
    }

    /// The value as a `Double` for doubles, integers and decimal strings (RESP2 sends scores as bulk strings), else nil.
    package var double: Double? {
        switch self {
        case .double(let value):
            return value
        case .integer(let value):
            return Double(value)
        case .bulkString(let buffer):
            return Self.parseDouble(String(buffer: buffer))
        case .simpleString(let text), .bigNumber(let text):
            return Self.parseDouble(text)
        default:
            return nil
        }
    }

    /// The raw bytes of bulk strings, and the UTF-8 of simple/verbatim strings, else nil.
    package var buffer: ByteBuffer? {
        switch self {
        case .bulkString(let buffer):
            return buffer
        case .simpleString(let text), .verbatimString(let text):
            return ByteBuffer(string: text)
        default:
            return nil
        }
    }

    /// The elements of arrays, sets and push frames, and a map flattened to key, value, key, value; else nil.
    package var array: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values):
            return values
        case .map(let entries):
            var flat: [RESPValue] = []
            flat.reserveCapacity(entries.count * 2)
            for entry in entries {
                flat.append(entry.key)
                flat.append(entry.value)
            }
            return flat
        default:
            return nil
        }
    }

    /// Map entries for RESP3 maps, and RESP2 flat arrays paired up; nil for other shapes or odd-length arrays.
    package var mapEntries: [RESPMapEntry]? {
        switch self {
        case .map(let entries):
            return entries
        case .array(let values):
            guard values.count.isMultiple(of: 2) else { return nil }
            var entries: [RESPMapEntry] = []
            entries.reserveCapacity(values.count / 2)
            var index = values.startIndex
            while index < values.endIndex {
                entries.append(RESPMapEntry(key: values[index], value: values[index + 1]))
                index += 2
            }
            return entries
        default:
            return nil
        }
    }

    /// True for RESP3 null and RESP2 null bulk strings/arrays.
    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    private static func parseDouble(_ text: String) -> Double? {
        // Redis spells infinities its own way in RESP2 score replies.
        switch text {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        default: return Double(text)
        }
    }
}
