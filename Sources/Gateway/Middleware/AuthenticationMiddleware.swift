import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Enforces the contract's `security` at the one place every operation passes through: the
/// generator does not. Public operations are listed here; everything else needs a credential.
struct AuthenticationMiddleware: ServerMiddleware {
    let authenticator: GatewayAuthenticator

    /// Operations whose `security` is empty in openapi.yaml.
    static let publicOperations: Set<String> = ["getHealth", "getReadiness", "login", "refreshToken"]

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if Self.publicOperations.contains(operationID) {
            return try await next(request, body, metadata)
        }
        let identity = try await authenticator.authenticate(request.headerFields)
        return try await RequestIdentity.$current.withValue(identity) {
            try await next(request, body, metadata)
        }
    }
}

/// Undoes the percent-encoding the OpenAPI runtime applies to every header value (the `simple`
/// style escapes `/`, `;`, `=`, quotes and spaces), which would otherwise turn
/// `Location: /v1/users/…` into `%2Fv1%2Fusers…` and a payout file's `Content-Disposition` into
/// something no browser reads. Only headers our handlers write with such characters.
struct LocationHeaderMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        for name in [HTTPField.Name.location, .contentDisposition] {
            if let value = response.headerFields[name], let decoded = value.removingPercentEncoding {
                response.headerFields[name] = decoded
            }
        }
        return (response, responseBody)
    }
}
