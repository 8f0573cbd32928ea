import Foundation

/// A `multipart/form-data` body read whole: its text fields, and its files by field name. The
/// console's uploads (a disbursement's amounts, an import) are bounded before they are read.
struct MultipartForm: Sendable {
    struct File: Sendable {
        var fileName: String
        var contentType: String?
        var bytes: [UInt8]
    }

    var fields = FormData()
    var files: [String: File] = [:]

    /// The boundary a `Content-Type: multipart/form-data; boundary=…` names.
    static func boundary(of contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else {
                continue
            }
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            let unquoted =
                value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2
                ? String(value.dropFirst().dropLast()) : value
            return unquoted.isEmpty || unquoted.utf8.count > 70 ? nil : unquoted
        }
        return nil
    }

    /// Parses `body`; nil when it is not a well-formed multipart body with that boundary.
    init?(body: [UInt8], boundary: String) {
        let delimiter = Array("--\(boundary)".utf8)
        let separator = Array("\r\n\r\n".utf8)
        guard var start = Self.find(delimiter, in: body, from: 0) else { return nil }
        var pairs: [(String, String)] = []
        while true {
            var cursor = start + delimiter.count
            // `--` after the delimiter closes the body.
            if body.count >= cursor + 2, body[cursor] == UInt8(ascii: "-"), body[cursor + 1] == UInt8(ascii: "-") {
                break
            }
            guard body.count >= cursor + 2, body[cursor] == 13, body[cursor + 1] == 10 else { return nil }
            cursor += 2
            guard let headerEnd = Self.find(separator, in: body, from: cursor),
                let next = Self.find(Array("\r\n".utf8) + delimiter, in: body, from: headerEnd + 4)
            else { return nil }
            let headers = String(decoding: body[cursor..<headerEnd], as: UTF8.self)
            let content = Array(body[(headerEnd + 4)..<next])
            var name: String?
            var fileName: String?
            var contentType: String?
            for line in headers.split(separator: "\r\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                switch parts[0].lowercased() {
                case "content-disposition":
                    name = Self.parameter("name", in: value)
                    fileName = Self.parameter("filename", in: value)
                case "content-type":
                    contentType = value
                default: break
                }
            }
            if let name {
                if let fileName {
                    files[name] = File(fileName: fileName, contentType: contentType, bytes: content)
                } else {
                    pairs.append((name, String(decoding: content, as: UTF8.self)))
                }
            }
            start = next + 2
        }
        fields = FormData(pairs: pairs)
    }

    private static func parameter(_ name: String, in value: String) -> String? {
        for part in value.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var text = pair[1].trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 {
                text = String(text.dropFirst().dropLast())
            }
            return text
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else {
            return nil
        }
        var index = start
        let first = needle[0]
        while index <= haystack.count - needle.count {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
