package import Foundation
package import HTTPTypes
package import HummingbirdTesting
import NIOCore
import TestInfrastructure

/// A decoded HTTP answer.
package struct HTTPAnswer: Sendable, CustomStringConvertible {
    package var status: HTTPResponse.Status
    package var headers: HTTPFields
    package var body: Data

    /// The body as a JSON object.
    package var json: [String: Any] {
        get throws {
            let object = try JSONSerialization.jsonObject(with: body)
            guard let dictionary = object as? [String: Any] else {
                throw Malformed(body: String(decoding: body, as: UTF8.self))
            }
            return dictionary
        }
    }

    /// The `errors[].field` of a problem document.
    package var problemFields: [String] {
        ((try? json["errors"]) as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
    }

    /// The stable `code` of a problem document.
    package var problemCode: String? {
        (try? json["code"]) as? String
    }

    /// Status and body, for a failed expectation's message.
    package var description: String {
        "\(status.code) \(String(decoding: body.prefix(2_000), as: UTF8.self))"
    }

    struct Malformed: Error, CustomStringConvertible {
        var body: String
        var description: String { "not a JSON object: \(body)" }
    }
}

/// A request that got no answer, naming the request and how long it waited: a bare
/// `readTimeout` does not say which of a test's calls hung.
package struct RequestFailed: Error, CustomStringConvertible {
    package var request: String
    package var after: Duration
    package var underlying: any Error
    package var description: String {
        "\(request) failed after \(after.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 3)))): \(underlying)"
    }
}

/// Requests against the public API as a client would make them.
extension TestClientProtocol {
    /// `GET /readiness` until it answers `status` (200) or `limit` passes, as an orchestrator's
    /// probe retries: on a machine running the whole suite at once a health check can miss its
    /// two-second budget, or a fresh channel still be backing off from its first connection; and
    /// the gateway reuses a report for a second.
    package func readiness(
        until status: HTTPResponse.Status = .ok, within limit: Duration = .seconds(30)
    ) async throws -> HTTPAnswer {
        let deadline = ContinuousClock.now + limit
        var answer = try await send(.get, "/readiness")
        while answer.status != status, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            answer = try await send(.get, "/readiness")
        }
        return answer
    }

    /// Sends a request with an optional JSON body (any JSON value, or raw text: JSON unless `headers`
    /// name another content type) and credentials.
    package func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        json: Any? = nil,
        raw: String? = nil,
        bearer: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> HTTPAnswer {
        var headers = extra
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            body = ByteBuffer(string: raw)
        }
        let started = ContinuousClock.now
        do {
            return try await execute(uri: path, method: method, headers: headers, body: body) { response in
                HTTPAnswer(
                    status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
            }
        } catch {
            throw RequestFailed(
                request: "\(method) \(path)", after: ContinuousClock.now - started, underlying: error)
        }
    }

    /// Logs in and returns the access and refresh tokens.
    package func login(
        _ email: String = ServiceHarness.adminEmail,
        _ password: String = ServiceHarness.adminPassword
    ) async throws -> (access: String, refresh: String) {
        let answer = try await send(.post, "/v1/auth/login", json: ["email": email, "password": password])
        guard answer.status == .ok, let access = try answer.json["accessToken"] as? String,
            let refresh = try answer.json["refreshToken"] as? String
        else {
            throw HTTPAnswer.Malformed(
                body: "login failed with \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
        }
        return (access, refresh)
    }
}
