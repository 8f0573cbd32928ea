package import ServerKit

/// Settings of the public gateway.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_HTTP_HOST` | `127.0.0.1` | address to listen on (`0.0.0.0` in containers) |
/// | `RAHAT_HTTP_PORT` | `8080` | port to listen on |
/// | `RAHAT_TRUST_FORWARDED_FOR` | `false` | take the client address from `X-Forwarded-For` (behind a proxy you run) |
/// | `RAHAT_TRUST_TRACEPARENT` | `false` | continue the trace a request's W3C `traceparent` names (behind a proxy or client you run that starts traces); otherwise every request starts its own |
/// | `RAHAT_API_KEY_CACHE_SECONDS` | `30` | how long a verified API key is trusted before the auth service is asked again |
/// | `RAHAT_MAX_BODY_BYTES` | `1048576` (1 MiB) | largest JSON request body; a larger one is refused with 413 as it streams (CSV and multipart uploads have their own limits) |
/// | `RAHAT_HTTP_IDLE_TIMEOUT_SECONDS` | `60` | a connection with no request in progress is closed after this long, as is one whose next request's headers are still incomplete |
/// | `RAHAT_HTTP_HEADER_TIMEOUT_SECONDS` | `10` | a new connection whose first request's headers have not all arrived by then is closed |
/// | `RAHAT_REQUEST_TIMEOUT_MS` | `30000` | a request not answered by then is answered 504 and its calls to services are cancelled (uploads: 1 h); it bounds those calls in place of their own deadlines |
/// | `RAHAT_READ_YOUR_WRITES_MS` | `5000` | after a caller's write, how long its reads that a read replica could answer are sent to the primary instead (`serve gateway`; 0 turns it off). Keep it at least the services' `RAHAT_DB_REPLICA_MAX_LAG_MS` |
/// | `RAHAT_PUBLIC_METRICS` | `true` embedded, `false` for `serve gateway` | serve `/metrics` on the public listener; `serve gateway` serves it on its operations port instead |
///
/// Rate limits are listed with ``RateLimitConfiguration``, job streams with ``EventStreamLimits``,
/// the requests taken on at once with ``AdmissionLimits``.
package struct GatewayConfiguration: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var trustForwardedFor: Bool
    /// Whether a request's `traceparent` is continued; an untrusted one could join any trace.
    package var trustTraceparent: Bool
    package var apiKeyCacheTTL: Duration
    package var rateLimits: RateLimitConfiguration
    /// The most a JSON request body may hold, in bytes.
    package var maxBodyBytes: Int
    /// How long a connection may sit without a request in progress.
    package var idleTimeout: Duration
    /// How long a new connection has to deliver its first request's headers.
    package var headerTimeout: Duration
    /// How long a request may take, its body and its calls to services included (uploads take
    /// ``RequestDeadlineMiddleware/uploadTimeout``).
    package var requestTimeout: Duration
    package var eventStreams: EventStreamLimits
    /// Whether `/metrics` is on the public listener (the embedded default) or only on an
    /// operations port the process serves beside it.
    package var publicMetrics: Bool
    /// How often the list of revoked sessions, keys and users is read from the auth service.
    package var revocationPollInterval: Duration
    /// After a caller's write, how long its reads go to the primary rather than a read replica;
    /// zero: never asked for.
    package var readYourWrites: Duration
    /// How many requests are worked on at once, and how many may wait.
    package var admission: AdmissionLimits

    package init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        trustForwardedFor: Bool = false,
        trustTraceparent: Bool = false,
        apiKeyCacheTTL: Duration = .seconds(30),
        rateLimits: RateLimitConfiguration = RateLimitConfiguration(),
        maxBodyBytes: Int = 1_048_576,
        idleTimeout: Duration = .seconds(60),
        headerTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(30),
        eventStreams: EventStreamLimits = EventStreamLimits(),
        publicMetrics: Bool = true,
        revocationPollInterval: Duration = .milliseconds(500),
        readYourWrites: Duration = .seconds(5),
        admission: AdmissionLimits = AdmissionLimits()
    ) {
        self.host = host
        self.port = port
        self.trustForwardedFor = trustForwardedFor
        self.trustTraceparent = trustTraceparent
        self.apiKeyCacheTTL = apiKeyCacheTTL
        self.rateLimits = rateLimits
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.requestTimeout = requestTimeout
        self.eventStreams = eventStreams
        self.publicMetrics = publicMetrics
        self.revocationPollInterval = revocationPollInterval
        self.readYourWrites = readYourWrites
        self.admission = admission
    }

    /// Reads the settings; `publicMetrics` is the default for `RAHAT_PUBLIC_METRICS`.
    package init(from source: inout ConfigurationSource, publicMetrics: Bool = true) {
        self.init(
            host: source.string("RAHAT_HTTP_HOST", default: "127.0.0.1"),
            port: source.int("RAHAT_HTTP_PORT", default: 8080, in: 0...65_535),
            trustForwardedFor: source.bool("RAHAT_TRUST_FORWARDED_FOR", default: false),
            trustTraceparent: source.bool("RAHAT_TRUST_TRACEPARENT", default: false),
            apiKeyCacheTTL: .seconds(source.int("RAHAT_API_KEY_CACHE_SECONDS", default: 30, in: 0...3600)),
            rateLimits: RateLimitConfiguration(from: &source),
            maxBodyBytes: source.int("RAHAT_MAX_BODY_BYTES", default: 1_048_576, in: 1024...67_108_864),
            idleTimeout: .seconds(source.int("RAHAT_HTTP_IDLE_TIMEOUT_SECONDS", default: 60, in: 1...3600)),
            headerTimeout: .seconds(source.int("RAHAT_HTTP_HEADER_TIMEOUT_SECONDS", default: 10, in: 1...300)),
            requestTimeout: .milliseconds(source.int("RAHAT_REQUEST_TIMEOUT_MS", default: 30_000, in: 100...3_600_000)),
            eventStreams: EventStreamLimits(from: &source),
            publicMetrics: source.bool("RAHAT_PUBLIC_METRICS", default: publicMetrics),
            readYourWrites: .milliseconds(source.int("RAHAT_READ_YOUR_WRITES_MS", default: 5_000, in: 0...600_000)),
            admission: AdmissionLimits(from: &source)
        )
    }
}

/// How many job progress streams (`GET /v1/jobs/{id}/stream`) the gateway serves at once, and for
/// how long. A stream also ends when its job has ended and when the gateway shuts down.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_SSE_MAX_PER_CALLER` | `5` | open streams per user or API key; one more is refused with 429 |
/// | `RAHAT_SSE_MAX_TOTAL` | `1000` | open streams per gateway process; one more is refused with 503 |
/// | `RAHAT_SSE_MAX_SECONDS` | `3600` | a stream is ended after this long; clients reconnect if they still care |
package struct EventStreamLimits: Sendable, Equatable {
    package var perCaller: Int
    package var total: Int
    package var maxDuration: Duration

    package init(perCaller: Int = 5, total: Int = 1000, maxDuration: Duration = .seconds(3600)) {
        self.perCaller = perCaller
        self.total = total
        self.maxDuration = maxDuration
    }

    init(from source: inout ConfigurationSource) {
        self.init(
            perCaller: source.int("RAHAT_SSE_MAX_PER_CALLER", default: 5, in: 1...1000),
            total: source.int("RAHAT_SSE_MAX_TOTAL", default: 1000, in: 1...100_000),
            maxDuration: .seconds(source.int("RAHAT_SSE_MAX_SECONDS", default: 3600, in: 1...86_400))
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
/// | `RAHAT_RATE_LIMIT_AUTH_FAILURES` | `20/1m` | failed credentials (bad tokens, unknown API keys) per client address; over it, credentials that would need the auth service are refused with 429 |
/// | `RAHAT_RATE_LIMIT_FAIL_CLOSED` | `false` | when the limiter's store is unreachable, refuse with 503 instead of letting requests through |
///
/// A limit is `N/period` with a unit of `ms`, `s`, `m` or `h` (`600/1m`, `5/10s`), or `off`.
/// Without `REDIS_URL` the counts live in the process, so each gateway replica counts alone.
package struct RateLimitConfiguration: Sendable, Equatable {
    /// Limits per class; a class without one is not limited.
    package var limits: [RouteClass: RateLimit]
    /// Refuse requests (503) rather than let them through when the limiter's store is unreachable.
    package var failClosed: Bool
    /// Failed credentials per client address before unverified ones are refused; nil: no limit.
    package var authFailures: RateLimit?

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
    package init(
        limits: [RouteClass: RateLimit] = defaultLimits, failClosed: Bool = false,
        authFailures: RateLimit? = Self.defaultAuthFailures
    ) {
        self.limits = limits
        self.failClosed = failClosed
        self.authFailures = authFailures
    }

    /// Failed credentials an address may send a minute: a person mistyping, a script retrying.
    package static let defaultAuthFailures = RateLimit(20, per: .seconds(60))

    init(from source: inout ConfigurationSource) {
        var limits: [RouteClass: RateLimit] = [:]
        for routeClass in RouteClass.allCases {
            limits[routeClass] = source.rateLimit(
                "RAHAT_RATE_LIMIT_\(routeClass.rawValue.uppercased())", default: Self.defaultLimits[routeClass])
        }
        let authFailures = source.rateLimit("RAHAT_RATE_LIMIT_AUTH_FAILURES", default: Self.defaultAuthFailures)
        self.init(
            limits: limits, failClosed: source.bool("RAHAT_RATE_LIMIT_FAIL_CLOSED", default: false),
            authFailures: authFailures)
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
