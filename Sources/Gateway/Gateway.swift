import AuthAPI
import Foundation
import GRPCCore
package import Hummingbird
package import JobQueue
package import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import Operations
package import ServerKit
import SwiftProtobuf

/// The public HTTP edge: the `openapi.yaml` contract over the services' gRPC APIs.
package enum Gateway {
    /// Builds the gateway's HTTP application.
    ///
    /// - Parameters:
    ///   - auth: the auth service's clients.
    ///   - core: the core service's clients.
    ///   - ledger: the ledger service's clients.
    ///   - c2c: project-c2c's clients.
    ///   - extraReadiness: checks beyond the gateway's own (the services' gRPC health), e.g.
    ///     the database when everything runs in one process.
    ///   - rateLimiter: where request counts live: Redis shared by every replica, or this process.
    ///   - recentWriters: where callers' recent writes are remembered for read-your-writes
    ///     (``ReadYourWritesMiddleware``); nil where no service reads from a replica.
    ///   - extraRoutes: what else the gateway serves on the API's behalf (the console).
    ///   - onServerRunning: called with the bound port once the listener is up.
    package static func application(
        configuration: GatewayConfiguration,
        auth: AuthBackend,
        core: CoreBackend,
        ledger: LedgerBackend,
        c2c: C2CBackend,
        jobs: (any JobMonitor)? = nil,
        rateLimiter: any RateLimiter = InMemoryRateLimiter(),
        recentWriters: (any RecentWriters)? = nil,
        extraReadiness: [ReadinessCheck] = [],
        extraRoutes: [any GatewayRoutes] = [],
        logger: Logger,
        onServerRunning: (@Sendable (Int) async -> Void)? = nil
    ) throws -> some ApplicationProtocol {
        let revoked = RevokedCredentials()
        let router = try router(
            configuration: configuration,
            auth: auth,
            core: core,
            ledger: ledger,
            c2c: c2c,
            jobs: jobs,
            rateLimiter: rateLimiter,
            recentWriters: recentWriters,
            extraReadiness: extraReadiness,
            extraRoutes: extraRoutes,
            revoked: revoked,
            logger: logger
        )
        let headerTimeout = configuration.headerTimeout
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [HeaderTimeoutHandler(timeout: headerTimeout)],
                    idleTimeout: .seconds(configuration.idleTimeout.components.seconds))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "rahat"),
            services: [
                RevocationPoller(
                    revoked: revoked, auth: auth, interval: configuration.revocationPollInterval, logger: logger)
            ],
            onServerRunning: { channel in await onServerRunning?(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
    }

    /// The routes and middleware, for tests that drive the router without a socket.
    package static func router(
        configuration: GatewayConfiguration,
        auth: AuthBackend,
        core: CoreBackend,
        ledger: LedgerBackend,
        c2c: C2CBackend,
        jobs: (any JobMonitor)? = nil,
        rateLimiter: any RateLimiter = InMemoryRateLimiter(),
        recentWriters: (any RecentWriters)? = nil,
        extraReadiness: [ReadinessCheck] = [],
        extraRoutes: [any GatewayRoutes] = [],
        revoked: RevokedCredentials = RevokedCredentials(),
        logger: Logger
    ) throws -> Router<GatewayRequestContext> {
        _ = RahatMetrics.bootstrap()
        let readiness = Self.readiness(auth: auth, core: core, ledger: ledger, c2c: c2c, extra: extraReadiness)
        let router = Router(context: GatewayRequestContext.self)
        // Outermost: the span and the timing see the status the client is sent, problems included.
        router.middlewares.add(ObservabilityMiddleware(trustTraceparent: configuration.trustTraceparent))
        router.middlewares.add(RequestMiddleware(trustForwardedFor: configuration.trustForwardedFor, logger: logger))
        router.middlewares.add(LogRequestsMiddleware(.debug))

        router.get("/openapi.yaml") { _, _ in
            Response.text(OpenAPIDocument.yaml, contentType: "application/yaml; charset=utf-8")
        }
        router.get("/openapi.json") { _, _ in
            Response.text(OpenAPIDocument.json, contentType: "application/json")
        }
        router.get("/docs") { _, _ in
            Response.text(DocsPage.html, contentType: "text/html; charset=utf-8")
        }
        if configuration.publicMetrics {
            router.get("/metrics") { _, _ in
                Response.text(RahatMetrics.exposition(), contentType: "text/plain; version=0.0.4")
            }
        }

        let authenticator = GatewayAuthenticator(
            backend: auth, apiKeyCacheTTL: configuration.apiKeyCacheTTL, limiter: rateLimiter,
            failureLimit: configuration.rateLimits.authFailures, revoked: revoked, logger: logger)
        let handler = APIHandler(
            auth: auth, core: core, ledger: ledger, c2c: c2c, jobs: jobs,
            streams: EventStreamGate(limits: configuration.eventStreams), readiness: readiness, logger: logger)
        var codingConfiguration = OpenAPIRuntime.Configuration()
        codingConfiguration.jsonEncodingOptions = [.sortedKeys, .withoutEscapingSlashes]
        codingConfiguration.dateTranscoder = InternetDateTranscoder()
        var middlewares: [any ServerMiddleware] = []
        if configuration.admission.inFlight > 0 {
            middlewares.append(AdmissionMiddleware(gate: AdmissionGate(limits: configuration.admission)))
        }
        middlewares += [
            RequestDeadlineMiddleware(timeout: configuration.requestTimeout),
            BodyLimitMiddleware(limit: configuration.maxBodyBytes),
            PersonalDataInURLMiddleware(),
            LocationHeaderMiddleware(), AuthenticationMiddleware(authenticator: authenticator),
            RateLimitMiddleware(configuration: configuration.rateLimits, limiter: rateLimiter, logger: logger),
        ]
        if let recentWriters, configuration.readYourWrites > .zero {
            middlewares.append(
                ReadYourWritesMiddleware(window: configuration.readYourWrites, writers: recentWriters, logger: logger))
        }
        try handler.registerHandlers(on: router, configuration: codingConfiguration, middlewares: middlewares)
        if !extraRoutes.isEmpty {
            // The same handlers behind the same middleware: what is built on the API answers as it does.
            let api = InProcessAPI(logger: logger)
            try handler.registerHandlers(on: api, configuration: codingConfiguration, middlewares: middlewares)
            for routes in extraRoutes {
                try routes.register(on: router, api: api)
            }
        }
        return router
    }

    /// Ready when every service the gateway calls says it is serving, and `extra` passes.
    package static func readiness(
        auth: AuthBackend, core: CoreBackend, ledger: LedgerBackend, c2c: C2CBackend, extra: [ReadinessCheck]
    ) -> Readiness {
        Readiness(
            checks: [
                healthCheck("auth-service", auth.health), healthCheck("core-service", core.health),
                healthCheck("ledger-service", ledger.health), healthCheck("c2c-service", c2c.health),
            ] + extra
        )
    }

    /// Ready when a service's gRPC health check says it is serving.
    private static func healthCheck(
        _ name: String, _ health: any Grpc_Health_V1_Health.ClientProtocol
    ) -> ReadinessCheck {
        ReadinessCheck(name: name) {
            let response = try await health.check(.with { $0.service = "" }, options: .timeout(.seconds(2)))
            guard response.status == .serving else { throw UnhealthyService(status: "\(response.status)") }
        }
    }
}

/// Routes served on the gateway's router beside the API (the console), built on the API itself.
package protocol GatewayRoutes: Sendable {
    /// Adds the routes to `router`; `api` answers as the public API does, through its middleware.
    func register(on router: Router<GatewayRequestContext>, api: InProcessAPI) throws
}

private struct UnhealthyService: Error, CustomStringConvertible {
    var status: String
    var description: String { "status \(status)" }
}

extension CallOptions {
    static func timeout(_ duration: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = duration
        return options
    }
}

extension Response {
    static func text(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
