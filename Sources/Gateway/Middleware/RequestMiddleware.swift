import Foundation
import HTTPTypes
package import Hummingbird
import Logging
package import NIOCore
import ServerKit
import SharedModels

/// Per-request facts the gateway learns at the edge and passes on to the services it calls.
struct GatewayRequest: Sendable {
    var requestID: String
    var clientIP: String?
    var path: String
    /// The caller wrote moments ago: reads a replica could answer go to the primary instead
    /// (``ReadYourWritesMiddleware``).
    var readsPrimary = false

    @TaskLocal static var current: GatewayRequest?
}

extension HTTPField.Name {
    static let requestID: HTTPField.Name = {
        guard let name = HTTPField.Name("X-Request-Id") else { preconditionFailure("a valid header name") }
        return name
    }()
    static let forwardedFor: HTTPField.Name = {
        guard let name = HTTPField.Name("X-Forwarded-For") else { preconditionFailure("a valid header name") }
        return name
    }()
    static let apiKey: HTTPField.Name = {
        guard let name = HTTPField.Name("X-API-Key") else { preconditionFailure("a valid header name") }
        return name
    }()
}

/// The outermost middleware: gives every request an id (kept from `X-Request-Id` when the client
/// sent a sane one), works out the client address, turns every error into problem+json, and
/// stamps the id on every response, errors included.
struct RequestMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let trustForwardedFor: Bool
    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let requestID = Self.requestID(from: request.headers[.requestID])
        let clientIP = clientAddress(request: request, context: context)
        let edge = GatewayRequest(requestID: requestID, clientIP: clientIP, path: request.uri.path)
        var response: Response
        do {
            response = try await GatewayRequest.$current.withValue(edge) {
                try await next(request, context)
            }
        } catch {
            let problem = ProblemMapping.problem(for: error, edge: edge, logger: logger)
            response = try problem.response(from: request, context: context)
        }
        response.headers[.requestID] = requestID
        return response
    }

    private static func requestID(from header: String?) -> String {
        if let header, (1...128).contains(header.utf8.count),
            header.utf8.allSatisfy({
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
            })
        {
            return header
        }
        return UUID.v7().lowercasedString
    }

    /// Behind a trusted proxy, the address that proxy saw: the last `X-Forwarded-For` entry (it
    /// appends; everything before it came from the client and may be forged). Else the peer.
    private func clientAddress(request: Request, context: Context) -> String? {
        if trustForwardedFor, let forwarded = request.headers[.forwardedFor],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return last
        }
        return context.remoteAddress?.ipAddress
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}

/// The gateway's request context: Hummingbird's basic one plus the peer address for throttling.
package struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let remoteAddress: SocketAddress?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Bodies larger than this are refused with 413 before they are read.
    package var maxUploadSize: Int { 1024 * 1024 }
}
