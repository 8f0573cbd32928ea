/// Finds an object in a JSON text that gives one key twice.
///
/// JSON leaves repeated keys to the reader (RFC 8259 §4): the platform's decoder keeps one
/// occurrence and another reader (a proxy, an audit log, a WAF) may keep the other, so the two
/// would act on different requests. The gateway refuses them instead.
///
/// This is a scan, not a parser: it follows strings, objects and arrays only far enough to know
/// which strings are keys, and leaves every other judgement of the text to the decoder. It
/// keeps its own stack, so nesting costs memory, not the thread's stack.
enum JSONRepeatedKeys {
    private enum Frame {
        case object(current: String?, expectingKey: Bool)
        case array(index: Int)
    }

    /// The path of the first repeated key (`filter.gender`, `lines[2].amount`), as decoding
    /// errors name fields; `nil` when no object repeats a key.
    static func first(in bytes: [UInt8]) -> String? {
        var stack: [Frame] = []
        // The keys seen by each open object, innermost last: kept apart from the frames so that
        // a set grows in place (a set copied out of a frame would be copied whole on every insert,
        // making an object of n keys cost n² — a megabyte of keys would hold a core for seconds).
        var keySets: [Set<String>] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"):
                stack.append(.object(current: nil, expectingKey: true))
                keySets.append([])
            case UInt8(ascii: "["):
                stack.append(.array(index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if case .object = stack.popLast() { keySets.removeLast() }
            case UInt8(ascii: ","):
                switch stack.last {
                case .object(let current, _):
                    stack[stack.count - 1] = .object(current: current, expectingKey: true)
                case .array(let position):
                    stack[stack.count - 1] = .array(index: position + 1)
                case nil:
                    break
                }
            case UInt8(ascii: "\""):
                let (text, end) = string(in: bytes, from: index + 1)
                index = end
                if case .object(_, true) = stack.last {
                    // Swift compares strings by canonical equivalence, as a decoder keying a
                    // dictionary by them does: "é" and "e\u{301}" are one key.
                    guard keySets[keySets.count - 1].insert(text).inserted else { return path(stack, text) }
                    stack[stack.count - 1] = .object(current: text, expectingKey: false)
                }
            default:
                break
            }
            index += 1
        }
        return nil
    }

    /// The string whose contents begin at `start`, escapes decoded, and the index of its closing
    /// quote (or the end). An escape that decodes to nothing valid is kept as written.
    private static func string(in bytes: [UInt8], from start: Int) -> (String, Int) {
        var decoded: [UInt8] = []
        var index = start
        var pendingHigh: UInt16?
        func append(_ unit: UInt16) {
            if let high = pendingHigh {
                pendingHigh = nil
                if (0xDC00...0xDFFF).contains(unit) {
                    let scalar = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(unit) - 0xDC00)
                    if let value = Unicode.Scalar(scalar) { decoded.append(contentsOf: Array(String(value).utf8)) }
                    return
                }
            }
            if (0xD800...0xDBFF).contains(unit) {
                pendingHigh = unit
            } else if let value = Unicode.Scalar(unit) {
                decoded.append(contentsOf: Array(String(value).utf8))
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                decoded.append(byte)
                index += 1
                continue
            }
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "u"):
                if index + 4 <= bytes.count,
                    let unit = UInt16(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                {
                    append(unit)
                    index += 4
                } else {
                    decoded.append(contentsOf: [UInt8(ascii: "\\"), escaped])
                }
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            default: decoded.append(escaped)
            }
        }
        return (String(decoding: decoded, as: UTF8.self), index)
    }

    private static func path(_ stack: [Frame], _ key: String) -> String {
        var text = ""
        func add(_ name: String) {
            // A key is the client's text: enough of it to find, not all of a megabyte.
            let shown = name.count > 100 ? "\(name.prefix(100))…" : name
            text += text.isEmpty ? shown : ".\(shown)"
        }
        for frame in stack.dropLast() {
            switch frame {
            case .object(let current, _): add(current ?? "")
            case .array(let position): text += "[\(position)]"
            }
        }
        add(key)
        return text
    }
}
