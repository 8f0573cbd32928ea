import Foundation
import HTTPTypes
import OpenAPIRuntime
import ServerKit

/// Refuses a person's identifiers in a URL's query, on every route: URLs are kept by proxies, browsers and
/// access logs, where nobody seals them. Without this an old client's `?phone=` would be ignored
/// as an unknown parameter and answered with everyone instead of a lookup.
struct PersonalDataInURLMiddleware: ServerMiddleware {
    /// Query parameters that carry a person's identifiers; lookups take them in a body instead.
    static let personalParameters: Set<String> = ["phone", "nationalid", "national_id", "email"]
    /// The lists of people, where a `name` could only be a person's (elsewhere it names a
    /// disbursement or a project, and is welcome in a URL).
    static let listsOfPeople: Set<String> = ["listBeneficiaries", "listProjectBeneficiaries", "listGroupMembers"]

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if let path = request.path, let query = path.split(separator: "?", maxSplits: 1).dropFirst().first {
            let names = query.split(separator: "&").map {
                ($0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "").removingPercentEncoding ?? ""
            }
            if let name = names.first(where: {
                Self.personalParameters.contains($0.lowercased())
                    || ($0.lowercased() == "name" && Self.listsOfPeople.contains(operationID))
            }) {
                throw ServiceError(
                    .invalidArgument, reason: "request.personal_data_in_url",
                    message:
                        "Personal data is not accepted in a URL; to find beneficiaries by name, phone or national ID, use POST /v1/beneficiaries/search.",
                    violations: [FieldViolation(field: name, reason: "must not be sent in the URL")])
            }
        }
        return try await next(request, body, metadata)
    }
}
