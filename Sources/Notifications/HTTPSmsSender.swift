package import AsyncHTTPClient
package import Foundation
import NIOCore
import NIOHTTP1

/// Sends each message with one HTTP request to an SMS gateway. The URL, an optional header
/// (usually the gateway's credentials) and a body template with `{{to}}` and `{{body}}` are
/// configured, so it fits the common gateways (JSON or form-encoded). Values are escaped for the
/// template's content type. A status outside 2xx is a failure.
package struct HTTPSmsSender: SmsSender {
    package struct Configuration: Sendable, Equatable {
        package var url: URL
        /// `Name: value`, e.g. `Authorization: Bearer …`.
        package var header: (name: String, value: String)?
        package var bodyTemplate: String
        /// `application/json` or `application/x-www-form-urlencoded`.
        package var contentType: String
        package var timeout: Duration

        package init(
            url: URL, header: (name: String, value: String)? = nil,
            bodyTemplate: String = #"{"to":"{{to}}","body":"{{body}}"}"#, contentType: String = "application/json",
            timeout: Duration = .seconds(10)
        ) {
            self.url = url
            self.header = header
            self.bodyTemplate = bodyTemplate
            self.contentType = contentType
            self.timeout = timeout
        }

        package static func == (lhs: Configuration, rhs: Configuration) -> Bool {
            lhs.url == rhs.url && lhs.header?.name == rhs.header?.name && lhs.header?.value == rhs.header?.value
                && lhs.bodyTemplate == rhs.bodyTemplate && lhs.contentType == rhs.contentType
                && lhs.timeout == rhs.timeout
        }
    }

    private let configuration: Configuration
    private let client: HTTPClient

    package init(configuration: Configuration, client: HTTPClient = .shared) {
        self.configuration = configuration
        self.client = client
    }

    package func send(_ message: SmsMessage) async throws {
        var request = HTTPClientRequest(url: configuration.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: configuration.contentType)
        if let header = configuration.header { request.headers.add(name: header.name, value: header.value) }
        let body = Self.render(configuration.bodyTemplate, message, contentType: configuration.contentType)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .nanoseconds(configuration.timeout.nanoseconds))
        guard (200..<300).contains(response.status.code) else {
            throw SmsDeliveryError("the SMS gateway answered \(response.status.code)")
        }
    }

    /// The template with the message's values escaped for the content type.
    static func render(_ template: String, _ message: SmsMessage, contentType: String) -> String {
        let form = contentType.hasPrefix("application/x-www-form-urlencoded")
        func escape(_ text: String) -> String { form ? formEncoded(text) : jsonEscaped(text) }
        return template.replacingOccurrences(of: "{{to}}", with: escape(message.to))
            .replacingOccurrences(of: "{{body}}", with: escape(message.body))
    }

    private static func jsonEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func formEncoded(_ text: String) -> String {
        // RFC 3986 unreserved in ASCII only: a letter outside it (ä, न) is sent as its UTF-8 bytes.
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._*")
        return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(
            of: "%20", with: "+")
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
