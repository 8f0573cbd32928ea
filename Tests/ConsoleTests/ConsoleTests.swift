import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// The web console: its pages, sessions and defences, through the gateway as a browser uses it.
@Suite("Console") struct ConsoleTests {}

/// A browser without JavaScript: keeps cookies, reads the CSRF token from the last page, sends
/// forms as `application/x-www-form-urlencoded`.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    /// Cookies by name, as the server last set them.
    private(set) var cookies: [String: String] = [:]
    /// The attributes each cookie was last set with (`HttpOnly`, `SameSite=Strict` …).
    private(set) var cookieAttributes: [String: [String]] = [:]
    /// The `_csrf` field of the last page read.
    private(set) var csrf: String?
    /// The last page read.
    private(set) var lastPage: Page?
    /// Where the last redirect followed led.
    private(set) var lastLocation: String?
    /// The `Origin` forms are sent with; none by default, as the router test client has no host
    /// to compare it with.
    var origin: String?

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    struct Page: CustomStringConvertible {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var html: String

        var location: String? { headers[.location] }
        var description: String { "\(status.code) \(location ?? "") \(html.prefix(3_000))" }

        /// The text of the page's `<main>` as a reader sees it: tags removed, entities read, white
        /// space collapsed.
        var mainText: String {
            let main =
                html.range(of: "<main").flatMap { start in
                    html.range(of: "</main>").map { end in String(html[start.lowerBound..<end.upperBound]) }
                } ?? html
            return main.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
                .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&amp;", with: "&")
                .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
    }

    func get(_ path: String, headers extra: HTTPFields = [:]) async throws -> Page {
        try await send(.get, path, body: nil, headers: extra)
    }

    /// Posts `fields` and, unless `csrf` is false, the token of the last page read.
    func post(
        _ path: String, _ fields: [(String, String)] = [], csrf withToken: Bool = true, headers extra: HTTPFields = [:]
    ) async throws -> Page {
        var pairs = fields
        if withToken, let csrf { pairs.insert(("_csrf", csrf), at: 0) }
        let body = pairs.map { name, value in
            "\(Self.encode(name))=\(Self.encode(value))"
        }.joined(separator: "&")
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        if headers[.origin] == nil, let origin { headers[.origin] = origin }
        return try await send(.post, path, body: body, headers: headers)
    }

    /// Posts a `multipart/form-data` form, as a form with a file input is sent.
    func postMultipart(
        _ path: String, _ fields: [(String, String)], files: [(name: String, fileName: String, content: String)] = []
    ) async throws -> Page {
        let boundary = "----rahat-test-\(UUID().uuidString)"
        var body = ""
        for (name, value) in (csrf.map { [("_csrf", $0)] } ?? []) + fields {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        for file in files {
            body +=
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.fileName)\"\r\n"
            body += "Content-Type: text/csv\r\n\r\n\(file.content)\r\n"
        }
        body += "--\(boundary)--\r\n"
        var headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
        if let origin { headers[.origin] = origin }
        return try await send(.post, path, body: body, headers: headers)
    }

    /// Follows a See Other with GET, as browsers do after a form.
    func follow(_ page: Page) async throws -> Page {
        guard page.status == .seeOther, let location = page.location else { return page }
        lastLocation = location
        return try await get(location)
    }

    private func send(
        _ method: HTTPRequest.Method, _ path: String, body: String?, headers extra: HTTPFields
    ) async throws -> Page {
        var headers = extra
        if !cookies.isEmpty {
            headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: "; ")
        }
        let page = try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            Page(
                status: response.status, headers: response.headers,
                html: String(decoding: response.body.readableBytesView, as: UTF8.self))
        }
        for header in page.headers[values: .setCookie] {
            let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            cookieAttributes[name] = Array(parts.dropFirst())
            if value.isEmpty || parts.contains("Max-Age=0") {
                cookies[name] = nil
            } else {
                cookies[name] = value
            }
        }
        if let token = Self.field("_csrf", in: page.html) { csrf = token }
        lastPage = page
        return page
    }

    /// Forgets the token, as a page from elsewhere would not know it.
    func forgetToken() { csrf = nil }

    /// Sets a cookie by hand (a cookie stolen or kept after sign-out).
    func setCookie(_ name: String, _ value: String?) { cookies[name] = value }

    /// The value of the first hidden input named `name`.
    static func field(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    private static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Signs in through the sign-in form.
    @discardableResult
    func signIn(
        _ email: String = ServiceHarness.adminEmail, _ password: String = ServiceHarness.adminPassword
    ) async throws -> Page {
        _ = try await get("/console/sign-in")
        return try await post("/console/sign-in", [("email", email), ("password", password)])
    }
}
