import Foundation
import GRPCCore
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime
import ServerKit

/// An RFC 9457 problem document and the HTTP status it is sent with.
struct Problem: Encodable, Sendable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var instance: String?
    var code: String
    var requestId: String?
    var errors: [FieldViolation]?
    /// Not part of the body: sent as `Retry-After`.
    var retryAfterSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, code, requestId, errors
    }

    static let contentType = "application/problem+json"
}

/// The single place where every failure becomes an HTTP answer: service errors (also when they
/// arrive as gRPC `RPCError`s) map by kind to a status; the OpenAPI runtime's own request errors
/// (bad JSON, wrong types, unknown fields, missing parameters) become 400s naming the field;
/// anything else is a logged 500 that reveals nothing.
enum ProblemMapping {
    static func status(for kind: ServiceError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidArgument: .badRequest
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .notFound: .notFound
        case .alreadyExists, .failedPrecondition: .conflict
        case .resourceExhausted: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        case .internalError: .internalServerError
        }
    }

    static func problem(for error: any Error, path: String, requestID: String, logger: Logger) -> Problem {
        if let serviceError = serviceError(in: error) {
            if serviceError.kind == .internalError || serviceError.kind == .unavailable
                || serviceError.kind == .deadlineExceeded
            {
                logger.error("request failed upstream", metadata: ["error": "\(serviceError)"])
            }
            return problem(serviceError, path: path, requestID: requestID)
        }
        if let serverError = error as? ServerError {
            if let decoding = decodingError(in: serverError.underlyingError) {
                return problem(
                    .invalid([decoding], reason: "request.malformed"),
                    path: path,
                    requestID: requestID
                )
            }
            let status = serverError.httpStatus
            if (400..<500).contains(status.code) {
                return Problem(
                    type: "/problems/request.invalid",
                    title: status.reasonPhrase,
                    status: status.code,
                    detail: serverError.causeDescription,
                    instance: path,
                    code: status.code == 415 ? "request.unsupported_media_type" : "request.invalid",
                    requestId: requestID
                )
            }
        }
        if let httpError = error as? any HTTPResponseError, (400..<500).contains(httpError.status.code) {
            let status = httpError.status
            return Problem(
                type: "/problems/http.\(status.code)",
                title: status.reasonPhrase,
                status: status.code,
                detail: status == .notFound ? "No such endpoint." : status.reasonPhrase,
                instance: path,
                code: status == .notFound ? "route.not_found" : "http.\(status.code)",
                requestId: requestID
            )
        }
        // A runtime's server error describes the whole request, credentials included: log what
        // failed and where, never the headers.
        if let serverError = error as? ServerError {
            logger.error(
                "unhandled error",
                metadata: [
                    "operation": "\(serverError.operationID)", "cause": "\(serverError.causeDescription)",
                    "error": "\(String(reflecting: serverError.underlyingError))",
                ])
        } else {
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
        }
        return problem(
            ServiceError(.internalError, reason: "internal", message: "An internal error occurred."),
            path: path,
            requestID: requestID
        )
    }

    /// The problem for `error` in the request `edge` describes (path and id; empty outside one),
    /// logged under that request's id.
    static func problem(for error: any Error, edge: GatewayRequest?, logger: Logger) -> Problem {
        var logger = logger
        logger[metadataKey: "request_id"] = "\(edge?.requestID ?? "")"
        return problem(for: error, path: edge?.path ?? "", requestID: edge?.requestID ?? "", logger: logger)
    }

    /// The problem for a service error decided at the edge, in the request `edge` describes.
    static func problem(_ error: ServiceError, edge: GatewayRequest?) -> Problem {
        problem(error, path: edge?.path ?? "", requestID: edge?.requestID ?? "")
    }

    static func problem(_ error: ServiceError, path: String, requestID: String) -> Problem {
        // gRPC has no code for "too large"; the reason names it so HTTP clients get 413, not 400.
        let status = error.reason.hasSuffix(".too_large") ? .contentTooLarge : status(for: error.kind)
        return Problem(
            type: "/problems/\(error.reason)",
            title: status.reasonPhrase,
            status: status.code,
            detail: error.message,
            instance: path,
            code: error.reason,
            requestId: requestID,
            errors: error.violations.isEmpty ? nil : error.violations,
            // Unavailable is temporary by definition: say when to try again even where the
            // service did not (a database restarting, a replica stopping).
            retryAfterSeconds: error.retryAfterSeconds ?? (error.kind == .unavailable ? 1 : nil)
        )
    }

    /// Finds a service error however it was wrapped: thrown directly, carried by gRPC, or wrapped
    /// by the OpenAPI runtime around a handler or middleware.
    private static func serviceError(in error: any Error) -> ServiceError? {
        switch error {
        case let error as ServiceError: error
        case let error as RPCError: ServiceError(error)
        case let error as ServerError: serviceError(in: error.underlyingError)
        default: nil
        }
    }

    private static func decodingError(in error: any Error) -> FieldViolation? {
        guard let error = error as? DecodingError else { return nil }
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return FieldViolation(field: path(context.codingPath + [key]), reason: "is required")
        case .typeMismatch(let type, let context):
            return FieldViolation(field: path(context.codingPath), reason: "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return FieldViolation(field: path(context.codingPath), reason: "must be \(describe(type)), not null")
        case .dataCorrupted(let context):
            if context.debugDescription.contains("Additional properties are disabled") {
                return FieldViolation(field: path(context.codingPath), reason: "is not an accepted field")
            }
            if context.codingPath.isEmpty {
                return FieldViolation(field: "body", reason: "is not valid JSON")
            }
            return FieldViolation(field: path(context.codingPath), reason: "has an invalid value")
        @unknown default:
            return FieldViolation(field: "body", reason: "is invalid")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        case is [Any].Type: "an array"
        default: "a \(type)".replacingOccurrences(of: "Swift.", with: "")
        }
    }
}

extension Problem: ResponseGenerator {
    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: headerFields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoded())))
    }

    /// The answer as an OpenAPI middleware returns it, for problems decided inside the contract's
    /// middleware chain.
    var openAPIResponse: (HTTPResponse, HTTPBody?) {
        (HTTPResponse(status: HTTPResponse.Status(code: status), headerFields: headerFields), HTTPBody(encodedOrEmpty))
    }

    private var headerFields: HTTPFields {
        var headers: HTTPFields = [.contentType: Self.contentType]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if status == 401 { headers[.wwwAuthenticate] = #"Bearer realm="rahat""# }
        return headers
    }

    private func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Encoding plain strings and numbers cannot fail; an empty body beats a crash if it ever did.
    private var encodedOrEmpty: Data { (try? encoded()) ?? Data() }
}
