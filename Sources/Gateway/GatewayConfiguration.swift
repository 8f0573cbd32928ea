package import ServerKit

/// Settings of the public gateway.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_HTTP_HOST` | `127.0.0.1` | address to listen on (`0.0.0.0` in containers) |
/// | `RAHAT_HTTP_PORT` | `8080` | port to listen on |
/// | `RAHAT_TRUST_FORWARDED_FOR` | `false` | take the client address from `X-Forwarded-For` (behind a proxy you run) |
/// | `RAHAT_API_KEY_CACHE_SECONDS` | `30` | how long a verified API key is trusted before the auth service is asked again |
///
/// Rate limits are listed with ``RateLimitConfiguration``.
package struct GatewayConfiguration: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var trustForwardedFor: Bool
    package var apiKeyCacheTTL: Duration
    package var rateLimits: RateLimitConfiguration

    package init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        trustForwardedFor: Bool = false,
        apiKeyCacheTTL: Duration = .seconds(30),
        rateLimits: RateLimitConfiguration = RateLimitConfiguration()
    ) {
        self.host = host
        self.port = port
        self.trustForwardedFor = trustForwardedFor
        self.apiKeyCacheTTL = apiKeyCacheTTL
        self.rateLimits = rateLimits
    }

    package init(from source: inout ConfigurationSource) {
        self.init(
            host: source.string("RAHAT_HTTP_HOST", default: "127.0.0.1"),
            port: source.int("RAHAT_HTTP_PORT", default: 8080, in: 0...65_535),
            trustForwardedFor: source.bool("RAHAT_TRUST_FORWARDED_FOR", default: false),
            apiKeyCacheTTL: .seconds(source.int("RAHAT_API_KEY_CACHE_SECONDS", default: 30, in: 0...3600)),
            rateLimits: RateLimitConfiguration(from: &source)
        )
    }
}

/// How the public API is throttled. Each route class has its own limit, counted per API key, else
/// per user, else (for the sign-in routes) per client address.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_RATE_LIMIT_LOGIN` | `10/5m` | failed sign-ins and token refreshes per client address; a success gives its charge back |
/// | `RAHAT_RATE_LIMIT_READ` | `600/1m` | `GET` requests per caller |
/// | `RAHAT_RATE_LIMIT_WRITE` | `120/1m` | other requests per caller |
/// | `RAHAT_RATE_LIMIT_BULK` | `10/1m` | imports, batch registration, enrolment and group additions per caller |
/// | `RAHAT_RATE_LIMIT_FAIL_CLOSED` | `false` | when the limiter's store is unreachable, refuse with 503 instead of letting requests through |
///
/// A limit is `N/period` with a unit of `ms`, `s`, `m` or `h` (`600/1m`, `5/10s`), or `off`.
/// Without `REDIS_URL` the counts live in the process, so each gateway replica counts alone.
package struct RateLimitConfiguration: Sendable, Equatable {
    /// Limits per class; a class without one is not limited.
    package var limits: [RouteClass: RateLimit]
    /// Refuse requests (503) rather than let them through when the limiter's store is unreachable.
    package var failClosed: Bool

    /// What a route costs: decided by its operation, see ``RouteClass/of(operationID:method:)``.
    package enum RouteClass: String, Sendable, CaseIterable {
        case login, read, write, bulk
    }

    /// The limits an agency deployment starts with.
    package static let defaultLimits: [RouteClass: RateLimit] = [
        .login: RateLimit(10, per: .seconds(300)),
        .read: RateLimit(600, per: .seconds(60)),
        .write: RateLimit(120, per: .seconds(60)),
        .bulk: RateLimit(10, per: .seconds(60)),
    ]

    /// Limits per class, failing open unless told otherwise.
    package init(limits: [RouteClass: RateLimit] = defaultLimits, failClosed: Bool = false) {
        self.limits = limits
        self.failClosed = failClosed
    }

    init(from source: inout ConfigurationSource) {
        var limits: [RouteClass: RateLimit] = [:]
        for routeClass in RouteClass.allCases {
            let name = "RAHAT_RATE_LIMIT_\(routeClass.rawValue.uppercased())"
            let fallback = Self.defaultLimits[routeClass]
            let text = source.string(name, default: fallback?.description ?? "off")
            if text.lowercased() == "off" { continue }
            if let limit = RateLimit(parsing: text) {
                limits[routeClass] = limit
            } else {
                source.report("\(name): '\(text)' is not a limit like 600/1m (N/period, unit ms, s, m or h) or off")
            }
        }
        self.init(limits: limits, failClosed: source.bool("RAHAT_RATE_LIMIT_FAIL_CLOSED", default: false))
    }
}

extension RateLimitConfiguration.RouteClass {
    /// Operations that do work proportional to their input rather than one record.
    static let bulkOperations: Set<String> = [
        "createImport", "createBeneficiaries", "enrolBeneficiaries", "addGroupMembers",
    ]
    /// Sign-in operations: the only ones limited before the caller is known.
    static let loginOperations: Set<String> = ["login", "refreshToken"]
    /// Probes a platform must always answer.
    static let exemptOperations: Set<String> = ["getHealth", "getReadiness"]

    /// The class of an operation, or `nil` when it is never limited.
    static func of(operationID: String, method: String) -> Self? {
        if exemptOperations.contains(operationID) { return nil }
        if loginOperations.contains(operationID) { return .login }
        if bulkOperations.contains(operationID) { return .bulk }
        return method == "GET" || method == "HEAD" ? .read : .write
    }
}
