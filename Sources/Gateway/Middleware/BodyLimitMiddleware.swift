import HTTPTypes
import OpenAPIRuntime
import ServerKit

/// Refuses request bodies larger than the gateway accepts, as they stream: the OpenAPI runtime
/// collects a JSON body whole before decoding it, so without this any client (an anonymous one on
/// the sign-in routes included) could make the gateway hold as much as it cares to send.
///
/// A declared `Content-Length` over the limit is refused before a byte is read; a chunked body is
/// counted as it arrives and refused as soon as it passes the limit. A JSON body is collected here
/// and refused (400) if an object in it gives a key twice. Uploads that stream to their service
/// (CSV and multipart) are not collected here and keep their own, larger limits.
struct BodyLimitMiddleware: ServerMiddleware {
    /// The most a collected body may hold, in bytes.
    let limit: Int

    /// Operations whose non-JSON bodies stream through to a service that bounds them itself:
    /// imports (`RAHAT_IMPORT_MAX_BYTES`) and disbursement CSVs (``DisbursementCSV``).
    static let streamedOperations: Set<String> = ["createImport", "createDisbursement"]

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        // A request that declares no body has none: the transport hands one over regardless, and an
        // optional JSON body that is empty would otherwise be refused as malformed JSON.
        if Self.declaresNoBody(request) {
            return try await next(request, nil, metadata)
        }
        guard let body, !(Self.streamedOperations.contains(operationID) && !Self.isJSON(request)) else {
            return try await next(request, body, metadata)
        }
        if Self.isJSON(request) {
            // The runtime would collect it anyway: collected here, it is also checked for keys an
            // object gives twice, which the decoder would quietly resolve.
            let bytes = try await collect(body)
            if let path = JSONRepeatedKeys.first(in: bytes) {
                throw ServiceError(
                    .invalidArgument, reason: "request.malformed",
                    message: "The JSON body gives `\(path)` more than once; give each field once.",
                    violations: [FieldViolation(field: path, reason: "is given more than once")])
            }
            return try await next(request, HTTPBody(bytes), metadata)
        }
        switch body.length {
        case .known(let length) where length > limit:
            throw tooLarge
        case .known:
            // HTTP framing stops a body at its declared length: nothing more to count.
            return try await next(request, body, metadata)
        case .unknown:
            let limited = HTTPBody(
                LimitedBody(base: body, limit: limit, error: tooLarge), length: .unknown,
                iterationBehavior: body.iterationBehavior)
            return try await next(request, limited, metadata)
        }
    }

    /// The whole body, refused as soon as it passes the limit.
    private func collect(_ body: HTTPBody) async throws -> [UInt8] {
        if case .known(let length) = body.length, length > limit { throw tooLarge }
        let limited = HTTPBody(
            LimitedBody(base: body, limit: limit, error: tooLarge), length: body.length,
            iterationBehavior: body.iterationBehavior)
        return try await [UInt8](collecting: limited, upTo: .max)
    }

    private var tooLarge: ServiceError {
        ServiceError(
            .invalidArgument, reason: "request.too_large",
            message: "The request body is larger than \(Self.describe(limit)), the most this endpoint accepts.",
            violations: [FieldViolation(field: "body", reason: "must be at most \(limit) bytes")])
    }

    /// No content type, and no `Content-Length` or `Transfer-Encoding` or a length of zero (RFC 9112
    /// §6.3). An empty body with a content type is still a body, which its handler judges.
    private static func declaresNoBody(_ request: HTTPRequest) -> Bool {
        guard request.headerFields[.contentType] == nil else { return false }
        if let length = request.headerFields[.contentLength] { return length == "0" }
        return request.headerFields[.transferEncoding] == nil
    }

    private static func isJSON(_ request: HTTPRequest) -> Bool {
        guard let type = request.headerFields[.contentType]?.lowercased() else { return true }
        return type.hasPrefix("application/json") || type.contains("+json")
    }

    static func describe(_ bytes: Int) -> String {
        if bytes >= 1_048_576, bytes.isMultiple(of: 1_048_576) { return "\(bytes / 1_048_576) MiB" }
        if bytes >= 1024, bytes.isMultiple(of: 1024) { return "\(bytes / 1024) KiB" }
        return "\(bytes) bytes"
    }
}

/// A body that throws once more than `limit` bytes have come through it.
private struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = HTTPBody.ByteChunk

    let base: HTTPBody
    let limit: Int
    let error: ServiceError

    func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), remaining: limit, error: error)
    }

    struct Iterator: AsyncIteratorProtocol {
        var base: HTTPBody.AsyncIterator
        var remaining: Int
        let error: ServiceError

        mutating func next() async throws -> HTTPBody.ByteChunk? {
            guard let chunk = try await base.next() else { return nil }
            remaining -= chunk.count
            if remaining < 0 { throw error }
            return chunk
        }
    }
}
