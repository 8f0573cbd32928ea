import AuthAPI
import AuthService
import C2CAPI
import C2CService
import Console
import CoreAPI
import CoreService
import FluentKit
package import Foundation
import GRPCCore
import GRPCInProcessTransport
import GRPCNIOTransportHTTP2
import Gateway
package import Hummingbird
import LedgerAPI
package import LedgerService
package import Logging
package import Messaging
import Notifications
import Operations
package import Persistence
import RedisClient
import RedisStores
import ServerKit
package import ServiceLifecycle
import Synchronization

/// What `rahat serve` tells the person who started it.
package struct StartupNotice: Sendable {
    /// The first admin's credentials when this start created it; the password only if generated.
    package var createdAdmin: (email: String, generatedPassword: String?)?
    /// Where a generated password was written for the operator: never to standard output, which
    /// is the log stream and ends up in log stores.
    package var passwordFile: String?

    package init(createdAdmin: (email: String, generatedPassword: String?)? = nil, passwordFile: String? = nil) {
        self.createdAdmin = createdAdmin
        self.passwordFile = passwordFile
    }

    /// The notice for a start that created `admin`; a generated password is written owner-only
    /// (0600) to `<directory>/initial-admin-password`.
    static func recording(_ admin: (email: String, generatedPassword: String?)?, in directory: String) throws -> Self {
        guard let password = admin?.generatedPassword else { return StartupNotice(createdAdmin: admin) }
        let path = URL(fileURLWithPath: directory).appendingPathComponent("initial-admin-password").path
        try OwnerOnly.createDirectory(atPath: directory)
        try OwnerOnly.prepareFile(atPath: path)
        try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return StartupNotice(createdAdmin: admin, passwordFile: path)
    }
}

/// A process whose public face is the gateway: the gateway application and what it runs on.
package struct GatewayProcess<App: ApplicationProtocol>: Sendable {
    /// The public HTTP application.
    package let gateway: App
    /// Everything else the process runs (databases, gRPC server and client, health), started
    /// before and stopped after the gateway.
    package let background: [any Service]
    package let notice: StartupNotice

    /// All services in start order, for one `ServiceGroup`.
    package var services: [any Service] { background + [gateway] }
}

/// Builds the processes Rahat runs, for the `rahat` command and for tests alike: the same object
/// graph either way, only the transport and the infrastructure differ.
package enum Platform {
    /// Everything in one process: gateway and services over gRPC's in-process transport, each
    /// service on its own SQLite file (or PostgreSQL when `DATABASE_URL` is set).
    ///
    /// Migrates and creates the first admin before returning, so the returned services can take
    /// traffic as soon as they run.
    package static func embedded(
        configuration: EmbeddedConfiguration,
        logger: Logger,
        onGatewayRunning: (@Sendable (Int) async -> Void)? = nil
    ) async throws -> GatewayProcess<some ApplicationProtocol> {
        // Before anything creates a metric: one made earlier would stay bound to a no-op backend.
        _ = RahatMetrics.bootstrap()
        // Databases, keys and the SMS file live here: readable by this process's user only.
        try OwnerOnly.createDirectory(atPath: configuration.common.dataDirectory)
        let databases = OpenDatabases()
        do {
            let authDatabase = try databases.open(
                configuration.auth.database, schema: AuthService.schema, logger: logger)
            let coreDatabase = try databases.open(
                configuration.core.database, schema: CoreService.schema, logger: logger)
            let ledgerDatabase = try databases.open(
                configuration.ledger.database, schema: LedgerService.schema, logger: logger)
            let c2cDatabase = try databases.open(configuration.c2c.database, schema: C2CService.schema, logger: logger)
            let redis = try configuration.common.redis?.client(name: "rahat", logger: logger)
            // One process: the services share the secret, configured or kept in the data directory.
            let serviceSecret =
                try configuration.auth.serviceSecret
                ?? ServiceSecret.loadOrCreate(in: configuration.common.dataDirectory)
            var configurations = ServiceConfigurations(
                auth: configuration.auth, core: configuration.core, ledger: configuration.ledger,
                c2c: configuration.c2c)
            configurations.auth.serviceSecret = serviceSecret
            configurations.c2c.serviceSecret = serviceSecret
            if configurations.auth.signingKeyPEM == nil && configurations.auth.signingKeySeal == nil {
                configurations.auth.signingKeySeal = try SigningKeySeal.loadOrCreate(
                    in: configuration.common.dataDirectory)
            }
            if configurations.core.pii == nil {
                configurations.core.pii = try PIIKeyFile.loadOrCreate(in: configuration.common.dataDirectory)
            }
            let services = try InProcessServices.assemble(
                configurations,
                databases: ServiceDatabases(
                    auth: authDatabase, core: coreDatabase, ledger: ledgerDatabase, c2c: c2cDatabase),
                rpcTimeout: configuration.common.rpcTimeout,
                // One process: memory is as shared as Redis would be, unless Redis is configured.
                cache: redis.map { RedisCacheStore(client: $0) } ?? InMemoryCacheStore(),
                logger: logger)
            try await services.migrate()
            let admin = try await services.auth.bootstrapAdmin()
            let backend: MessagingBackend
            if let redis, let settings = configuration.common.redis {
                backend = .redis(settings, redis)
            } else {
                let messaging = try databases.open(
                    configuration.messagingDatabase, schema: InProcessEventBus.schema, logger: logger)
                try await messaging.migrate(MessagingMigrations.all)
                backend = .database(messaging)
            }
            let (jobs, messagingServices) = services.messaging(backend, logger: logger)
            let (server, health) = services.server(logger: logger)
            let edgeServer = services.edgeServer(health: health, logger: logger)
            let client = services.gatewayClient

            let gateway = try Gateway.application(
                configuration: configuration.gateway,
                auth: AuthBackend(client: client),
                core: CoreBackend(client: client),
                ledger: LedgerBackend(client: client),
                c2c: C2CBackend(client: client),
                jobs: jobs,
                rateLimiter: redis.map { RedisRateLimiter(client: $0) } ?? InMemoryRateLimiter(),
                extraReadiness: services.readinessChecks
                    + redisReadiness(redis, required: configuration.gateway.rateLimits.failClosed),
                extraRoutes: try console(
                    configuration.console, gateway: configuration.gateway, redis: redis, logger: logger),
                logger: logger,
                onServerRunning: onGatewayRunning
            )
            let notice = try StartupNotice.recording(admin, in: configuration.common.dataDirectory)
            return GatewayProcess(
                gateway: gateway,
                background: databases.all + redisServices(redis) + [
                    GRPCServerService(server: server) as any Service, GRPCClientService(client: services.client),
                    GRPCServerService(server: edgeServer), GRPCClientService(client: client),
                    HealthDrain(health: health),
                ] + messagingServices,
                notice: notice
            )
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// `rahat serve auth`: the auth service alone, gRPC over HTTP/2 plus its operations port.
    package static func authProcess(
        configuration: AuthProcessConfiguration,
        logger: Logger,
        onGRPCRunning: (@Sendable (Int) async -> Void)? = nil,
        onOpsRunning: (@Sendable (Int) async -> Void)? = nil
    ) async throws -> (services: [any Service], notice: StartupNotice) {
        _ = RahatMetrics.bootstrap()
        let databases = OpenDatabases()
        do {
            let database = try databases.open(configuration.auth.database, schema: AuthService.schema, logger: logger)
            let auth = try ServiceAssembly.auth(configuration.auth, database: database, logger: logger)
            try await prepare(
                database, service: "auth", migrations: AuthMigrations.all, migrate: configuration.migrateOnStart)
            let admin = try await auth.bootstrapAdmin()
            let services = serviceProcess(
                rpcServices: auth.rpcServices,
                names: AuthService.rpcServiceNames,
                readiness: auth.readinessChecks,
                listen: configuration.listen,
                tls: configuration.common.internalTLS,
                logger: logger,
                onGRPCRunning: onGRPCRunning,
                onOpsRunning: onOpsRunning
            )
            let notice = try StartupNotice.recording(admin, in: configuration.common.dataDirectory)
            return (databases.all + services, notice)
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// `rahat serve core`: the core service alone; it fetches the auth service's public keys to
    /// verify callers.
    package static func coreProcess(
        configuration: CoreProcessConfiguration,
        logger: Logger,
        onGRPCRunning: (@Sendable (Int) async -> Void)? = nil,
        onOpsRunning: (@Sendable (Int) async -> Void)? = nil
    ) async throws -> [any Service] {
        _ = RahatMetrics.bootstrap()
        let databases = OpenDatabases()
        do {
            let database = try databases.open(configuration.core.database, schema: CoreService.schema, logger: logger)
            let authClient = try client(to: configuration.auth, common: configuration.common)
            let redis = try configuration.common.redis?.client(name: "rahat-core", logger: logger)
            if redis == nil {
                // Replicas each caching in memory would serve one another's stale reads.
                logger.notice("beneficiary read cache off: REDIS_URL is not set")
            }
            let core = try ServiceAssembly.core(
                configuration.core, database: database, auth: authClient,
                cache: redis.map { RedisCacheStore(client: $0) }, sms: configuration.sms.sender(), logger: logger)
            try await prepare(
                database, service: "core", migrations: CoreMigrations.all, migrate: configuration.migrateOnStart)
            let services = serviceProcess(
                rpcServices: core.rpcServices,
                names: CoreService.rpcServiceNames,
                readiness: core.readinessChecks,
                listen: configuration.listen,
                tls: configuration.common.internalTLS,
                logger: logger,
                onGRPCRunning: onGRPCRunning,
                onOpsRunning: onOpsRunning
            )
            // Without Redis, other services' events wait in their outboxes for a process that has it.
            let consumers: [any Service] =
                redis.map { client in
                    [
                        RedisEventConsumer(
                            group: CoreService.eventGroup, handlers: core.eventHandlers, client: client,
                            logger: logger)
                    ]
                } ?? []
            return databases.all + redisServices(redis) + [GRPCClientService(client: authClient)] + services
                + core.backgroundServices + consumers
                + outboxRelay(
                    service: "core", database: database,
                    redis: redis.flatMap { client in configuration.common.redis.map { ($0, client) } }, logger: logger)
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// `rahat serve c2c`: project-c2c alone; it calls the auth, core and ledger services.
    package static func c2cProcess(
        configuration: C2CProcessConfiguration,
        logger: Logger,
        onGRPCRunning: (@Sendable (Int) async -> Void)? = nil,
        onOpsRunning: (@Sendable (Int) async -> Void)? = nil
    ) async throws -> [any Service] {
        _ = RahatMetrics.bootstrap()
        let databases = OpenDatabases()
        do {
            let database = try databases.open(configuration.c2c.database, schema: C2CService.schema, logger: logger)
            let authClient = try client(to: configuration.auth, common: configuration.common)
            let coreClient = try client(to: configuration.core, common: configuration.common)
            let ledgerClient = try client(to: configuration.ledger, common: configuration.common)
            let redis = try configuration.common.redis?.client(name: "rahat-c2c", logger: logger)
            let c2c = try ServiceAssembly.c2c(
                configuration.c2c, database: database, auth: authClient, core: coreClient, ledger: ledgerClient,
                sms: configuration.c2c.sms.sender(), logger: logger)
            try await prepare(
                database, service: "c2c", migrations: C2CMigrations.all, migrate: configuration.migrateOnStart)
            let services = serviceProcess(
                rpcServices: c2c.rpcServices,
                names: C2CService.rpcServiceNames,
                readiness: c2c.readinessChecks,
                listen: configuration.listen,
                tls: configuration.common.internalTLS,
                logger: logger,
                onGRPCRunning: onGRPCRunning,
                onOpsRunning: onOpsRunning
            )
            return databases.all + redisServices(redis) + [
                GRPCClientService(client: authClient), GRPCClientService(client: coreClient),
                GRPCClientService(client: ledgerClient),
            ] + services
                + outboxRelay(
                    service: "c2c", database: database,
                    redis: redis.flatMap { client in configuration.common.redis.map { ($0, client) } }, logger: logger)
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// `rahat serve ledger`: the ledger service alone; it fetches the auth service's public keys
    /// to verify callers.
    package static func ledgerProcess(
        configuration: LedgerProcessConfiguration,
        logger: Logger,
        onGRPCRunning: (@Sendable (Int) async -> Void)? = nil,
        onOpsRunning: (@Sendable (Int) async -> Void)? = nil
    ) async throws -> [any Service] {
        _ = RahatMetrics.bootstrap()
        let databases = OpenDatabases()
        do {
            let database = try databases.open(
                configuration.ledger.database, schema: LedgerService.schema, logger: logger)
            let authClient = try client(to: configuration.auth, common: configuration.common)
            let ledger = ServiceAssembly.ledger(
                configuration.ledger, database: database, auth: authClient, logger: logger)
            try await prepare(
                database, service: "ledger", migrations: LedgerMigrations.all, migrate: configuration.migrateOnStart)
            let services = serviceProcess(
                rpcServices: ledger.rpcServices,
                names: LedgerService.rpcServiceNames,
                readiness: ledger.readinessChecks,
                listen: configuration.listen,
                tls: configuration.common.internalTLS,
                logger: logger,
                onGRPCRunning: onGRPCRunning,
                onOpsRunning: onOpsRunning
            )
            return databases.all + [GRPCClientService(client: authClient)] + services
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// `rahat serve worker`: every service's job handlers on the Redis job queue, plus an
    /// operations port (health, readiness, metrics). Workers share the load; SIGTERM lets running
    /// jobs finish within the grace period and gives back the rest.
    package static func workerProcess(
        configuration: WorkerProcessConfiguration,
        logger: Logger,
        onOpsRunning: (@Sendable (Int) async -> Void)? = nil
    ) async throws -> [any Service] {
        _ = RahatMetrics.bootstrap()
        let databases = OpenDatabases()
        do {
            guard let redisSettings = configuration.common.redis else {
                throw ConfigurationError(problems: ["REDIS_URL: required by 'rahat serve worker'"])
            }
            var redisConfiguration = try redisSettings.configuration(name: "rahat-worker")
            // An idle worker holds one connection per queue blocked in XREAD; the rest serve claims.
            redisConfiguration.poolSize = max(redisConfiguration.poolSize, 8)
            let redis = RedisClient(configuration: redisConfiguration, logger: logger)
            let database = try databases.open(configuration.core.database, schema: CoreService.schema, logger: logger)
            let c2cDatabase = try databases.open(
                configuration.c2c.database, schema: C2CService.schema, logger: logger)
            let authClient = try client(to: configuration.peers.auth, common: configuration.common)
            let coreClient = try client(to: configuration.peers.core, common: configuration.common)
            let ledgerClient = try client(to: configuration.peers.ledger, common: configuration.common)
            // Imports that change a phone tell the old number; redemptions send codes.
            let sms = configuration.c2c.sms.sender()
            let core = try ServiceAssembly.core(
                configuration.core, database: database, auth: authClient, cache: RedisCacheStore(client: redis),
                sms: sms, logger: logger)
            let c2c = try ServiceAssembly.c2c(
                configuration.c2c, database: c2cDatabase, auth: authClient, core: coreClient, ledger: ledgerClient,
                sms: sms, logger: logger)
            try await prepare(database, service: "core", migrations: CoreMigrations.all, migrate: false)
            try await prepare(c2cDatabase, service: "c2c", migrations: C2CMigrations.all, migrate: false)
            var workerConfiguration = JobWorkerConfiguration()
            workerConfiguration.defaultConcurrency = configuration.concurrency
            let worker = JobWorker(
                store: redisSettings.jobStore(redis), handlers: core.jobHandlers + c2c.jobHandlers,
                configuration: workerConfiguration, logger: logger)
            let ops = OpsServer.application(
                host: configuration.opsHost,
                port: configuration.opsPort,
                readiness: Readiness(
                    checks: core.readinessChecks + c2c.readinessChecks
                        + [ReadinessCheck(name: "redis") { try await redis.ping() }]),
                logger: logger,
                onServerRunning: onOpsRunning
            )
            // The worker is listed last, so it stops (finishing or giving back its jobs) before
            // the connections it uses close.
            return databases.all + [
                redis, GRPCClientService(client: authClient), GRPCClientService(client: coreClient),
                GRPCClientService(client: ledgerClient), ops, worker,
            ]
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// `rahat serve gateway`: the public HTTP edge, calling the services over HTTP/2.
    package static func gatewayProcess(
        configuration: GatewayProcessConfiguration,
        logger: Logger,
        onGatewayRunning: (@Sendable (Int) async -> Void)? = nil,
        onOpsRunning: (@Sendable (Int) async -> Void)? = nil
    ) throws -> GatewayProcess<some ApplicationProtocol> {
        _ = RahatMetrics.bootstrap()
        // The gateway bounds each request, and with it the calls it makes (RequestDeadlineMiddleware).
        let bound = RPCDefaults.callerBoundServiceConfig(retrying: InternalRoutes.retryable)
        let authClient = try client(to: configuration.auth, common: configuration.common, serviceConfig: bound)
        let coreClient = try client(to: configuration.core, common: configuration.common, serviceConfig: bound)
        let ledgerClient = try client(to: configuration.ledger, common: configuration.common, serviceConfig: bound)
        let c2cClient = try client(to: configuration.c2c, common: configuration.common, serviceConfig: bound)
        let redis = try configuration.common.redis?.client(name: "rahat-gateway", logger: logger)
        if redis == nil {
            logger.notice("rate limits counted per gateway process: REDIS_URL is not set")
        }
        let backends = (
            auth: AuthBackend(client: authClient), core: CoreBackend(client: coreClient),
            ledger: LedgerBackend(client: ledgerClient), c2c: C2CBackend(client: c2cClient)
        )
        let extraReadiness = redisReadiness(redis, required: configuration.gateway.rateLimits.failClosed)
        let gateway = try Gateway.application(
            configuration: configuration.gateway,
            auth: backends.auth,
            core: backends.core,
            ledger: backends.ledger,
            c2c: backends.c2c,
            jobs: redis.flatMap { client in configuration.common.redis?.jobStore(client) },
            rateLimiter: redis.map { RedisRateLimiter(client: $0) } ?? InMemoryRateLimiter(),
            recentWriters: redis.map { RedisRecentWriters(client: $0) } ?? InMemoryRecentWriters(),
            extraReadiness: extraReadiness,
            extraRoutes: try console(
                configuration.console, gateway: configuration.gateway, redis: redis, logger: logger),
            logger: logger,
            onServerRunning: onGatewayRunning
        )
        let ops = OpsServer.application(
            host: configuration.opsHost,
            port: configuration.opsPort,
            readiness: Gateway.readiness(
                auth: backends.auth, core: backends.core, ledger: backends.ledger, c2c: backends.c2c,
                extra: extraReadiness),
            logger: logger,
            onServerRunning: onOpsRunning
        )
        return GatewayProcess(
            gateway: gateway,
            background: redisServices(redis) + [ops as any Service] + [
                GRPCClientService(client: authClient), GRPCClientService(client: coreClient),
                GRPCClientService(client: ledgerClient), GRPCClientService(client: c2cClient),
            ],
            notice: StartupNotice()
        )
    }

    /// The web console at `/console`, unless turned off; its sessions live in Redis when there is
    /// one, so that any gateway replica serves a signed-in user.
    private static func console(
        _ configuration: ConsoleConfiguration, gateway: GatewayConfiguration, redis: RedisClient?, logger: Logger
    ) throws -> [any GatewayRoutes] {
        guard configuration.enabled else { return [] }
        let sessions: any SessionStore = redis.map { RedisSessionStore(client: $0) } ?? InMemorySessionStore()
        return [
            try Console(
                configuration: configuration, sessions: sessions, trustForwardedProto: gateway.trustForwardedFor,
                logger: logger)
        ]
    }

    /// Applies every service's pending migrations, or reverts each service's last batch.
    /// Returns the names of the migrations applied.
    package static func migrate(
        configuration: MigrateConfiguration, revert: Bool, logger: Logger
    ) async throws -> [String] {
        let databases = OpenDatabases()
        do {
            let plan: [(ServiceDatabaseConfiguration, String, [any Migration])] = [
                (configuration.auth.database, AuthService.schema, AuthMigrations.all),
                (configuration.core.database, CoreService.schema, CoreMigrations.all),
                (configuration.ledger.database, LedgerService.schema, LedgerMigrations.all),
                (configuration.c2c.database, C2CService.schema, C2CMigrations.all),
                (
                    .messaging(besides: configuration.core.database), InProcessEventBus.schema,
                    MessagingMigrations.all
                ),
            ]
            var applied: [String] = []
            for (settings, schema, migrations) in plan {
                let database = try databases.open(settings, schema: schema, logger: logger)
                if revert {
                    try await database.revertLastBatch(migrations)
                } else {
                    applied += try await database.pendingMigrations(migrations)
                    try await database.migrate(migrations)
                }
            }
            await databases.shutdown()
            return applied
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// `rahat auth rotate-signing-key`.
    package static func rotateSigningKey(configuration: MigrateConfiguration, logger: Logger) async throws -> String {
        let databases = OpenDatabases()
        do {
            let database = try databases.open(configuration.auth.database, schema: AuthService.schema, logger: logger)
            var authConfiguration = configuration.auth
            // The embedded default keeps its seal beside its databases; a distributed one is configured.
            if case .sqlite = authConfiguration.database.location, authConfiguration.signingKeySeal == nil {
                authConfiguration.signingKeySeal = try SigningKeySeal.loadOrCreate(
                    in: configuration.common.dataDirectory)
            }
            let auth = try ServiceAssembly.auth(authConfiguration, database: database, logger: logger)
            let kid = try await auth.rotateSigningKey()
            await databases.shutdown()
            return kid
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// `rahat ledger verify`: walks the hash chain on the ledger's database.
    package static func verifyLedger(
        configuration: MigrateConfiguration, logger: Logger
    ) async throws
        -> ChainVerification
    {
        let databases = OpenDatabases()
        do {
            let database = try databases.open(
                configuration.ledger.database, schema: LedgerService.schema, logger: logger)
            try await prepare(database, service: "ledger", migrations: LedgerMigrations.all, migrate: false)
            let result = try await LedgerService.verifyChain(on: database)
            await databases.shutdown()
            return result
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// A subscribing service's dead letters: on Redis with `REDIS_URL`, else the embedded bus's.
    package static func deadLetters(
        configuration: MigrateConfiguration, group: String, limit: Int, logger: Logger
    ) async throws -> [DeadLetter] {
        try await withEventStore(configuration: configuration, logger: logger) { store in
            switch store {
            case .redis(let client):
                try await RedisEventConsumer.deadLetters(group: group, limit: limit, client: client)
            case .embedded(let bus): try await bus.deadLetters(group: group, limit: limit)
            }
        }
    }

    /// The events a service's outbox set aside as unpublishable, and, with `retry`, puts those
    /// named back in line first. `service` is core or c2c, the services that publish.
    package static func unpublishableEvents(
        configuration: MigrateConfiguration, service: String, retry: [UUID], limit: Int, logger: Logger
    ) async throws -> (retried: Int, failed: [(event: StoredOutboxEvent, failedAt: Date, reason: String)]) {
        let settings: (ServiceDatabaseConfiguration, String)
        switch service {
        case "core": settings = (configuration.core.database, CoreService.schema)
        case "c2c": settings = (configuration.c2c.database, C2CService.schema)
        default: throw ConfigurationError(problems: ["--service: '\(service)' publishes no events; core or c2c"])
        }
        let databases = OpenDatabases()
        do {
            let database = try databases.open(settings.0, schema: settings.1, logger: logger)
            let retried = try await Outbox.retry(retry, on: database)
            let failed = try await Outbox.failed(limit: limit, on: database)
            await databases.shutdown()
            return (retried, failed)
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// Sends a dead letter back to its subscribing service; false when there is no such letter.
    package static func replayDeadLetter(
        configuration: MigrateConfiguration, group: String, entryID: String, logger: Logger
    ) async throws -> Bool {
        try await withEventStore(configuration: configuration, logger: logger) { store in
            switch store {
            case .redis(let client): try await RedisEventConsumer.replay(entryID, group: group, client: client)
            case .embedded(let bus): try await bus.replay(entryID, group: group)
            }
        }
    }

    private enum EventStore {
        case redis(RedisClient)
        case embedded(InProcessEventBus)
    }

    private static func withEventStore<T: Sendable>(
        configuration: MigrateConfiguration, logger: Logger, _ body: (EventStore) async throws -> T
    ) async throws -> T {
        if let redis = configuration.common.redis {
            return try await RedisClient.withClient(
                configuration: try redis.configuration(name: "rahat-cli"), logger: logger
            ) { client in
                try await body(.redis(client))
            }
        }
        let databases = OpenDatabases()
        do {
            let database = try databases.open(
                .messaging(besides: configuration.core.database), schema: InProcessEventBus.schema, logger: logger)
            try await database.migrate(MessagingMigrations.all)
            let result = try await body(.embedded(InProcessEventBus(database: database, logger: logger)))
            await databases.shutdown()
            return result
        } catch {
            await databases.shutdown()
            throw error
        }
    }

    /// A gRPC client over HTTP/2 to `address` (a name resolved by DNS, or an address), with the
    /// process's call deadline (unless `serviceConfig` says otherwise) and, when configured, mutual TLS.
    private static func client(
        to address: ServiceAddress, common: CommonConfiguration, serviceConfig: ServiceConfig? = nil
    ) throws -> GRPCClient<HTTP2ClientTransport.Posix> {
        GRPCClient(
            transport: try .http2NIOPosix(
                target: resolvableTarget(host: address.host, port: address.port),
                transportSecurity: common.internalTLS?.clientSecurity ?? .plaintext,
                serviceConfig: serviceConfig
                    ?? RPCDefaults.serviceConfig(timeout: common.rpcTimeout, retrying: InternalRoutes.retryable)
            ),
            interceptors: [ClientObservabilityInterceptor(serverAddress: address.host)]
        )
    }

    /// An address literal is dialled as one: resolved by DNS it would be sent as the TLS server
    /// name, which may not be an address, and the call would fail before it began.
    private static func resolvableTarget(host: String, port: Int) -> any ResolvableTarget {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return .ipv4(address: host, port: port) }
        if inet_pton(AF_INET6, host, &v6) == 1 { return .ipv6(address: host, port: port) }
        return .dns(host: host, port: port)
    }

    /// Migrates when told to; otherwise refuses to start on a database with pending migrations.
    private static func prepare(
        _ database: ServiceDatabase,
        service: String,
        migrations: [any Migration],
        migrate: Bool
    ) async throws {
        if migrate {
            try await database.migrate(migrations)
            return
        }
        let pending = try await database.pendingMigrations(migrations)
        if !pending.isEmpty {
            throw ConfigurationError(problems: [
                "the \(service) database has \(pending.count) pending migration(s); run 'rahat migrate' first or set RAHAT_MIGRATE_ON_START=true"
            ])
        }
    }

    /// The gRPC server, its health service and its operations HTTP port for one service process.
    private static func serviceProcess(
        rpcServices: [any RegistrableRPCService],
        names: [String],
        readiness: [ReadinessCheck],
        listen: ServiceListenConfiguration,
        tls: InternalTLS?,
        logger: Logger,
        onGRPCRunning: (@Sendable (Int) async -> Void)?,
        onOpsRunning: (@Sendable (Int) async -> Void)?
    ) -> [any Service] {
        let health = HealthService()
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: listen.grpcHost, port: listen.grpcPort),
            transportSecurity: tls?.serverSecurity ?? .plaintext
        )
        // Without TLS there is no identity to go by: the network itself must be private.
        let trustsClientAddress: @Sendable (ServerContext, Metadata) -> Bool
        if let tls {
            trustsClientAddress = { context, metadata in tls.trustsClientAddress(context, metadata: metadata) }
        } else {
            trustsClientAddress = { _, _ in true }
        }
        let server = GRPCServer(
            transport: transport,
            services: rpcServices + [health.rpcService],
            interceptors: serverInterceptors(logger: logger, trustsClientAddress: trustsClientAddress)
        )
        markServing(health, services: names)
        let ops = OpsServer.application(
            host: listen.opsHost,
            port: listen.opsPort,
            readiness: Readiness(checks: readiness),
            logger: logger,
            onServerRunning: onOpsRunning
        )
        return [
            GRPCServerService(server: server), ListeningAnnouncer(transport: transport, onRunning: onGRPCRunning), ops,
            HealthDrain(health: health),
        ]
    }

    /// The Redis client as a service, so it closes after everything that uses it has stopped.
    private static func redisServices(_ redis: RedisClient?) -> [any Service] {
        redis.map { [$0] } ?? []
    }

    /// The relay that moves a service's committed events to their Redis Streams, and its job
    /// requests to the Redis job queue. Listed after the
    /// database and the Redis client, so it stops before them. Without Redis there is none yet:
    /// events stay in the outbox, committed, until a process with Redis relays them.
    private static func outboxRelay(
        service: String, database: ServiceDatabase, redis: (settings: RedisSettings, client: RedisClient)?,
        logger: Logger
    ) -> [any Service] {
        guard let redis else { return [] }
        let publisher = JobRoutingPublisher(
            jobs: redis.settings.jobStore(redis.client), events: RedisEventPublisher(client: redis.client))
        return [
            OutboxRelay(service: service, database: database, publisher: publisher, logger: logger),
            RedisStreamTrimmer(client: redis.client, logger: logger),
        ]
    }

    /// Redis counts toward readiness only where the process cannot work without it: the cache
    /// and a fail-open limiter degrade to the database and to letting requests through.
    private static func redisReadiness(_ redis: RedisClient?, required: Bool) -> [ReadinessCheck] {
        guard let redis, required else { return [] }
        return [ReadinessCheck(name: "redis") { try await redis.ping() }]
    }

    static func serverInterceptors(
        logger: Logger, trustsClientAddress: @escaping @Sendable (ServerContext, Metadata) -> Bool = { _, _ in true }
    ) -> [any ServerInterceptor] {
        [
            // First, so its span and timing cover the others and the handler.
            ServerObservabilityInterceptor(),
            IncomingCallInterceptor(trustsClientAddress: trustsClientAddress),
            ErrorLoggingInterceptor(logger: logger) { error in
                DatabaseAvailability.isUnavailable(error) || DatabaseAvailability.isRolledBackForRetry(error)
            },
        ]
    }

    static func markServing(_ health: HealthService, services: [String]) {
        health.setStatus(.serving)
        for service in services { health.setStatus(.serving, forService: service) }
    }
}

/// The databases a process opened, closed together when start-up fails half-way.
final class OpenDatabases: Sendable {
    private let opened = Mutex<[ServiceDatabase]>([])

    func open(_ configuration: ServiceDatabaseConfiguration, schema: String, logger: Logger) throws -> ServiceDatabase {
        let database = try ServiceDatabase(configuration: configuration, schema: schema, logger: logger)
        opened.withLock { $0.append(database) }
        return database
    }

    /// The databases as lifecycle services, so the group closes them on shutdown.
    var all: [any Service] { opened.withLock { $0 } }

    func shutdown() async {
        for database in opened.withLock({ $0 }) { await database.shutdown() }
    }
}

/// Reports NOT_SERVING as soon as shutdown starts, so load balancers stop sending new calls
/// while in-flight ones finish, and ends open health watches so the server can drain.
struct HealthDrain: Service {
    let health: HealthService

    func run() async throws {
        try? await gracefulShutdown()
        health.markAllNotServing()
        health.endAllWatches()
    }
}

/// Tells the caller which port the gRPC server bound, once it is listening, then stays until
/// shutdown (a service that returns early would stop the whole group).
struct ListeningAnnouncer: Service {
    let transport: HTTP2ServerTransport.Posix
    let onRunning: (@Sendable (Int) async -> Void)?

    func run() async throws {
        if let onRunning, let address = try await transport.listeningAddress.ipv4 {
            await onRunning(address.port)
        }
        try? await gracefulShutdown()
    }
}
