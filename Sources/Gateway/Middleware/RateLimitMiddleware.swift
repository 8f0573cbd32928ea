import Foundation
import HTTPTypes
import Logging
import MetricCatalog
import Metrics
import OpenAPIRuntime
import ServerKit
import SharedModels

/// Throttles the public API per caller and route class (``RateLimitConfiguration``) and tells
/// clients where they stand with the `RateLimit-*` headers on every limited route's answer.
///
/// Runs after authentication, so authenticated calls count against their API key or user. The
/// sign-in routes count against the client address and only failures stay charged: a request is
/// charged up front (so parallel guessing cannot overshoot) and given back when it succeeds.
struct RateLimitMiddleware: ServerMiddleware {
    let configuration: RateLimitConfiguration
    let limiter: any RateLimiter
    let logger: Logger
    private let warnings = LogThrottle(interval: .seconds(10))

    init(configuration: RateLimitConfiguration, limiter: any RateLimiter, logger: Logger) {
        self.configuration = configuration
        self.limiter = limiter
        self.logger = logger
    }

    private static let fallbacksOpen = GatewayMetrics.rateLimitFallbacks.counter("open")
    private static let fallbacksClosed = GatewayMetrics.rateLimitFallbacks.counter("closed")

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard
            let routeClass = RateLimitConfiguration.RouteClass.of(
                operationID: operationID, method: request.method.rawValue),
            let limit = configuration.limits[routeClass]
        else {
            return try await next(request, body, metadata)
        }
        let key = "\(routeClass.rawValue):\(Self.caller())"
        let decision: RateLimitDecision
        do {
            decision = try await limiter.check(key, limit: limit, cost: 1)
        } catch {
            return try await unavailable(error, request: request, body: body, metadata: metadata, next: next)
        }
        Self.recordDecision(routeClass, allowed: decision.allowed)
        guard decision.allowed else {
            return Self.refusal(decision)
        }
        var (response, responseBody): (HTTPResponse, HTTPBody?)
        do {
            (response, responseBody) = try await next(request, body, metadata)
        } catch {
            // Answered here rather than by the outer middleware, so errors carry the headers too.
            (response, responseBody) =
                ProblemMapping.problem(for: error, edge: GatewayRequest.current, logger: logger).openAPIResponse
        }
        var reported = decision
        if routeClass == .login, (200..<300).contains(response.status.code) || response.status.code >= 500 {
            // A successful sign-in is not a guess, nor is one the platform failed to judge.
            if let refunded = try? await limiter.check(key, limit: limit, cost: -1) { reported = refunded }
        }
        Self.stamp(reported, on: &response.headerFields)
        return (response, responseBody)
    }

    /// Who is counted: the API key, else the user, else the client address.
    static func caller() -> String {
        RequestIdentity.current?.principal.callerKey ?? "ip:\(GatewayRequest.current?.clientIP ?? "unknown")"
    }

    private func unavailable(
        _ error: any Error,
        request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let shouldLog = warnings.shouldLog()
        if configuration.failClosed {
            Self.fallbacksClosed.increment()
            if shouldLog {
                logger.error(
                    "rate limiter unavailable; refusing requests (fail closed)", metadata: ["error": "\(error)"])
            }
            let problem = ServiceError(
                .unavailable, reason: "rate_limit.unavailable",
                message: "Request throttling is unavailable, so requests are refused for now; try again shortly.",
                retryAfterSeconds: 1)
            return ProblemMapping.problem(problem, edge: GatewayRequest.current).openAPIResponse
        }
        Self.fallbacksOpen.increment()
        if shouldLog {
            logger.warning(
                "rate limiter unavailable; letting requests through (fail open)", metadata: ["error": "\(error)"])
        }
        return try await next(request, body, metadata)
    }

    private static func refusal(_ decision: RateLimitDecision) -> (HTTPResponse, HTTPBody?) {
        let seconds = max(1, decision.retryAfter.wholeSecondsRoundedUp)
        let problem = ServiceError(
            .resourceExhausted, reason: "rate_limit.exceeded",
            message: "Too many requests; try again in \(seconds) second\(seconds == 1 ? "" : "s").",
            retryAfterSeconds: seconds)
        var (response, body) = ProblemMapping.problem(problem, edge: GatewayRequest.current).openAPIResponse
        stamp(decision, on: &response.headerFields)
        return (response, body)
    }

    /// The `RateLimit-*` fields (draft-ietf-httpapi-ratelimit-headers) and, when refused, `Retry-After`.
    static func stamp(_ decision: RateLimitDecision, on fields: inout HTTPFields) {
        fields[.rateLimitLimit] = String(decision.limit)
        fields[.rateLimitRemaining] = String(decision.remaining)
        fields[.rateLimitReset] = String(decision.resetAfter.wholeSecondsRoundedUp)
        if !decision.allowed { fields[.retryAfter] = String(max(1, decision.retryAfter.wholeSecondsRoundedUp)) }
    }

    /// Made once: looking a counter up in the registry on every request would cost a lock.
    private static let decisionCounters: [RateLimitConfiguration.RouteClass: (allowed: Counter, limited: Counter)] =
        Dictionary(
            uniqueKeysWithValues: RateLimitConfiguration.RouteClass.allCases.map { routeClass in
                let counter = { (result: String) in
                    GatewayMetrics.rateLimitDecisions.counter(routeClass.rawValue, result)
                }
                return (routeClass, (allowed: counter("allowed"), limited: counter("limited")))
            })

    private static func recordDecision(_ routeClass: RateLimitConfiguration.RouteClass, allowed: Bool) {
        guard let counters = decisionCounters[routeClass] else { return }
        (allowed ? counters.allowed : counters.limited).increment()
    }
}

extension HTTPField.Name {
    static let rateLimitLimit: HTTPField.Name = {
        guard let name = HTTPField.Name("RateLimit-Limit") else { preconditionFailure("a valid header name") }
        return name
    }()
    static let rateLimitRemaining: HTTPField.Name = {
        guard let name = HTTPField.Name("RateLimit-Remaining") else { preconditionFailure("a valid header name") }
        return name
    }()
    static let rateLimitReset: HTTPField.Name = {
        guard let name = HTTPField.Name("RateLimit-Reset") else { preconditionFailure("a valid header name") }
        return name
    }()
}

extension Principal {
    /// Who the gateway counts and remembers a request against: the API key, else the user.
    var callerKey: String {
        if let keyID = apiKeyID { return "key:\(keyID.lowercasedString)" }
        return "user:\(userID.lowercasedString)"
    }
}
