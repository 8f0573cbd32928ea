package import Foundation
package import HTTPTypes
package import Logging
package import OpenAPIRuntime
import Synchronization

/// The public API reachable from inside the gateway's process, for edges built on top of it (the
/// console): a client transport whose requests go through the same operation handlers and the
/// same middleware as requests from the network — authentication, rate limits, admission,
/// deadlines — so such an edge can never see or do more than its caller could through the API.
///
/// The gateway registers its handlers here as on its HTTP router; ``send(_:body:baseURL:operationID:)``
/// then routes by method and path template, as the router would, and answers a failure with the
/// problem document the network would have been sent.
package final class InProcessAPI: ServerTransport, ClientTransport, Sendable {
    private struct Route: Sendable {
        var method: HTTPRequest.Method
        var template: [Segment]
        var handler: Handler
        /// Literal segments count first: `/v1/beneficiaries/search` is not `/v1/beneficiaries/{id}`.
        var literals: Int
    }

    private enum Segment: Sendable {
        case literal(Substring)
        case parameter(String)
    }

    private typealias Handler =
        @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)

    private let routes = Mutex<[Route]>([])
    private let logger: Logger

    /// An API with no operations yet; the gateway registers them.
    package init(logger: Logger) {
        self.logger = logger
    }

    package func register(
        _ handler:
            @Sendable @escaping (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (
                HTTPResponse, HTTPBody?
            ),
        method: HTTPRequest.Method,
        path: String
    ) throws {
        let template = path.split(separator: "/").map { segment -> Segment in
            if segment.hasPrefix("{"), segment.hasSuffix("}") {
                return .parameter(String(segment.dropFirst().dropLast()))
            }
            return .literal(segment)
        }
        let literals = template.count { if case .literal = $0 { true } else { false } }
        routes.withLock {
            $0.append(Route(method: method, template: template, handler: handler, literals: literals))
        }
    }

    package func send(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let target = request.path ?? "/"
        let path = target.split(separator: "?", maxSplits: 1).first ?? ""
        let segments = path.split(separator: "/")
        let match = routes.withLock { routes -> (Handler, [String: Substring])? in
            var best: (route: Route, parameters: [String: Substring])?
            for route in routes where route.method == request.method && route.template.count == segments.count {
                guard let parameters = Self.parameters(of: route.template, in: segments) else { continue }
                if best.map({ route.literals > $0.route.literals }) ?? true { best = (route, parameters) }
            }
            return best.map { ($0.route.handler, $0.parameters) }
        }
        guard let (handler, parameters) = match else {
            // The client is generated from the same contract, so this is a programming error.
            throw InProcessAPIError.noRoute(method: request.method.rawValue, path: String(path), operationID)
        }
        do {
            return try await handler(request, body, ServerRequestMetadata(pathParameters: parameters))
        } catch {
            return ProblemMapping.problem(for: error, edge: GatewayRequest.current, logger: logger).openAPIResponse
        }
    }

    private static func parameters(of template: [Segment], in segments: [Substring]) -> [String: Substring]? {
        var parameters: [String: Substring] = [:]
        for (part, segment) in zip(template, segments) {
            switch part {
            case .literal(let literal): guard literal == segment else { return nil }
            case .parameter(let name): parameters[name] = segment
            }
        }
        return parameters
    }
}

/// A request the in-process API has no operation for.
package enum InProcessAPIError: Error, CustomStringConvertible {
    case noRoute(method: String, path: String, String)

    package var description: String {
        switch self {
        case .noRoute(let method, let path, let operationID):
            "no in-process route for \(method) \(path) (operation \(operationID))"
        }
    }
}
