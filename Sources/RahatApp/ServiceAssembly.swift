import AuthAPI
package import AuthService
import C2CAPI
package import C2CService
import CoreAPI
package import CoreService
package import Foundation
package import GRPCCore
package import GRPCInProcessTransport
import LedgerAPI
package import LedgerService
package import Logging
package import Messaging
package import Notifications
package import Persistence
package import RedisClient
package import ServerKit
package import ServiceLifecycle
import TokenVerification

/// What a test may set in an otherwise production assembly; processes use the defaults.
package struct AssemblyOptions: Sendable {
    /// The services' clock.
    package var now: @Sendable () -> Date
    /// How soon after one fetch of the auth service's signing keys a verifier may fetch them
    /// again for a key id it does not know (a rotation).
    package var keyRefetchInterval: Duration

    package init(now: @escaping @Sendable () -> Date = Date.init, keyRefetchInterval: Duration = .seconds(1)) {
        self.now = now
        self.keyRefetchInterval = keyRefetchInterval
    }
}

/// Builds each service the one way every process runs it: the embedded process, `rahat serve
/// <role>`, the worker and the test harness differ only in the gRPC clients they hand in.
package enum ServiceAssembly {
    /// The auth service over its database.
    package static func auth(
        _ configuration: AuthServiceConfiguration, database: ServiceDatabase, logger: Logger,
        options: AssemblyOptions = AssemblyOptions()
    ) throws -> AuthService {
        try AuthService(configuration: configuration, database: database, logger: logger, now: options.now)
    }

    /// The core service: callers verified with the keys `auth` publishes, users looked up there.
    package static func core(
        _ configuration: CoreServiceConfiguration, database: ServiceDatabase, auth: GRPCClient<some ClientTransport>,
        cache: (any CacheStore)?, sms: any SmsSender, logger: Logger, options: AssemblyOptions = AssemblyOptions()
    ) throws -> CoreService {
        try CoreService(
            configuration: configuration,
            database: database,
            verifier: verifier(fetchingFrom: auth, logger: logger, options: options),
            accounts: AuthAccounts(users: Rahat_Auth_V1_UserService.Client(wrapping: auth)),
            cache: cache,
            sms: sms,
            logger: logger,
            now: options.now
        )
    }

    /// The ledger service: callers verified with the keys `auth` publishes.
    package static func ledger(
        _ configuration: LedgerServiceConfiguration, database: ServiceDatabase,
        auth: GRPCClient<some ClientTransport>, logger: Logger, options: AssemblyOptions = AssemblyOptions()
    ) -> LedgerService {
        LedgerService(
            database: database, verifier: verifier(fetchingFrom: auth, logger: logger, options: options),
            verifyReuse: configuration.verifyReuse, logger: logger, now: options.now)
    }

    /// project-c2c, calling auth, core and the ledger as itself with the configured service secret.
    package static func c2c(
        _ configuration: C2CServiceConfiguration, database: ServiceDatabase, auth: GRPCClient<some ClientTransport>,
        core: GRPCClient<some ClientTransport>, ledger: GRPCClient<some ClientTransport>, sms: any SmsSender,
        logger: Logger, options: AssemblyOptions = AssemblyOptions()
    ) throws -> C2CService {
        guard let secret = configuration.serviceSecret else {
            throw ConfigurationError(problems: ["RAHAT_SERVICE_SECRET: required by project-c2c"])
        }
        let clients = C2CClients(
            projects: Rahat_Core_V1_ProjectService.Client(wrapping: core),
            beneficiaries: Rahat_Core_V1_BeneficiaryService.Client(wrapping: core),
            vendors: Rahat_Core_V1_VendorService.Client(wrapping: core),
            users: Rahat_Auth_V1_UserService.Client(wrapping: auth),
            ledger: Rahat_Ledger_V1_LedgerService.Client(wrapping: ledger),
            credentials: C2CClients.credentials(auth: Rahat_Auth_V1_AuthService.Client(wrapping: auth), secret: secret))
        return C2CService(
            configuration: configuration, database: database,
            verifier: verifier(fetchingFrom: auth, logger: logger, options: options), clients: clients, sms: sms,
            logger: logger, now: options.now)
    }

    /// Verifies access tokens with the keys the auth service publishes over gRPC.
    static func verifier(
        fetchingFrom client: GRPCClient<some ClientTransport>, logger: Logger, options: AssemblyOptions
    ) -> AccessTokenVerifier {
        let auth = Rahat_Auth_V1_AuthService.Client(wrapping: client)
        return AccessTokenVerifier(minimumRefetchInterval: options.keyRefetchInterval, logger: logger) {
            let set = try await auth.getSigningKeys(Rahat_Auth_V1_GetSigningKeysRequest())
            return set.keys.map {
                PublishedSigningKey(keyID: $0.keyID, algorithm: $0.algorithm, publicKeyPEM: $0.publicKeyPem)
            }
        }
    }
}

/// The configurations of the four services one process runs together.
package struct ServiceConfigurations: Sendable {
    package var auth: AuthServiceConfiguration
    package var core: CoreServiceConfiguration
    package var ledger: LedgerServiceConfiguration
    package var c2c: C2CServiceConfiguration

    package init(
        auth: AuthServiceConfiguration, core: CoreServiceConfiguration, ledger: LedgerServiceConfiguration,
        c2c: C2CServiceConfiguration
    ) {
        self.auth = auth
        self.core = core
        self.ledger = ledger
        self.c2c = c2c
    }
}

/// The four services' databases in one process, opened by the caller, which closes them.
package struct ServiceDatabases: Sendable {
    package var auth: ServiceDatabase
    package var core: ServiceDatabase
    package var ledger: ServiceDatabase
    package var c2c: ServiceDatabase

    package init(auth: ServiceDatabase, core: ServiceDatabase, ledger: ServiceDatabase, c2c: ServiceDatabase) {
        self.auth = auth
        self.core = core
        self.ledger = ledger
        self.c2c = c2c
    }
}

/// Where the services of one process send their jobs and events.
package enum MessagingBackend: Sendable {
    /// Redis Streams (events) and the Redis job queue: shared with other processes.
    case redis(RedisSettings, RedisClient)
    /// The in-process bus and the job table in the messaging database, migrated.
    case database(ServiceDatabase)
}

/// The four services in one process over gRPC's in-process transport: what `rahat serve` runs,
/// and what the service test harness runs.
package struct InProcessServices: Sendable {
    package let auth: AuthService
    package let core: CoreService
    package let ledger: LedgerService
    package let c2c: C2CService
    package let databases: ServiceDatabases
    /// The client every service calls the others with.
    package let client: GRPCClient<InProcessTransport.Client>
    private let transport: InProcessTransport
    /// The client the gateway calls the services with: its calls have no deadline of their own,
    /// as the gateway bounds each request (see ``edgeServer(health:logger:)``).
    package let gatewayClient: GRPCClient<InProcessTransport.Client>
    private let gatewayTransport: InProcessTransport

    /// Assembles the services over `databases`; `sms` is where text messages go (the configured
    /// sender unless a test captures them); core caches beneficiary reads in `cache`.
    package static func assemble(
        _ configurations: ServiceConfigurations, databases: ServiceDatabases, rpcTimeout: Duration,
        cache: (any CacheStore)?, sms: (any SmsSender)? = nil, logger: Logger,
        options: AssemblyOptions = AssemblyOptions()
    ) throws -> InProcessServices {
        let transport = InProcessTransport(serviceConfig: RPCDefaults.serviceConfig(timeout: rpcTimeout))
        let client = GRPCClient(transport: transport.client, interceptors: [ClientObservabilityInterceptor()])
        let gatewayTransport = InProcessTransport(serviceConfig: RPCDefaults.callerBoundServiceConfig)
        let gatewayClient = GRPCClient(
            transport: gatewayTransport.client, interceptors: [ClientObservabilityInterceptor()])
        let sms = sms ?? configurations.c2c.sms.sender()
        return InProcessServices(
            auth: try ServiceAssembly.auth(
                configurations.auth, database: databases.auth, logger: logger, options: options),
            core: try ServiceAssembly.core(
                configurations.core, database: databases.core, auth: client, cache: cache, sms: sms, logger: logger,
                options: options),
            ledger: ServiceAssembly.ledger(
                configurations.ledger, database: databases.ledger, auth: client, logger: logger, options: options),
            c2c: try ServiceAssembly.c2c(
                configurations.c2c, database: databases.c2c, auth: client, core: client, ledger: client, sms: sms,
                logger: logger, options: options),
            databases: databases,
            client: client,
            transport: transport,
            gatewayClient: gatewayClient,
            gatewayTransport: gatewayTransport
        )
    }

    /// Applies every service's pending migrations.
    package func migrate() async throws {
        try await auth.migrate()
        try await core.migrate()
        try await ledger.migrate()
        try await c2c.migrate()
    }

    /// The gRPC server of all four services and the health service, reporting them serving.
    package func server(logger: Logger) -> (server: GRPCServer<InProcessTransport.Server>, health: HealthService) {
        let health = HealthService()
        let server = GRPCServer(
            transport: transport.server,
            services: auth.rpcServices + core.rpcServices + ledger.rpcServices + c2c.rpcServices
                + [health.rpcService],
            interceptors: Platform.serverInterceptors(logger: logger)
        )
        Platform.markServing(
            health,
            services: AuthService.rpcServiceNames + CoreService.rpcServiceNames + LedgerService.rpcServiceNames
                + C2CService.rpcServiceNames)
        return (server, health)
    }

    /// The same services on the gateway's own transport, marked serving by `health` (the one
    /// ``server(logger:)`` made): the gateway's calls carry no deadline, so they go where the
    /// services' calls to each other, which do, do not.
    package func edgeServer(health: HealthService, logger: Logger) -> GRPCServer<InProcessTransport.Server> {
        GRPCServer(
            transport: gatewayTransport.server,
            services: auth.rpcServices + core.rpcServices + ledger.rpcServices + c2c.rpcServices
                + [health.rpcService],
            interceptors: Platform.serverInterceptors(logger: logger)
        )
    }

    /// What must be up for the services to take traffic.
    package var readinessChecks: [ReadinessCheck] {
        auth.readinessChecks + core.readinessChecks + ledger.readinessChecks + c2c.readinessChecks
    }

    /// What carries the services' jobs and events in this process: core's background work and
    /// event subscription, both outboxes relayed, and a worker running every job.
    package func messaging(
        _ backend: MessagingBackend, worker: JobWorkerConfiguration = JobWorkerConfiguration(), logger: Logger
    ) -> (jobs: any JobStore, services: [any Service]) {
        let jobs: any JobStore
        let events: any EventPublisher
        let bus: [any Service]
        switch backend {
        case .redis(let settings, let redis):
            jobs = settings.jobStore(redis)
            events = RedisEventPublisher(client: redis)
            bus = [
                RedisEventConsumer(
                    group: CoreService.eventGroup, handlers: core.eventHandlers, client: redis, logger: logger),
                RedisStreamTrimmer(client: redis, logger: logger),
            ]
        case .database(let database):
            // Without Redis, events go straight to the subscribers in this process, and jobs wait
            // in the messaging database.
            let inProcess = InProcessEventBus(database: database, logger: logger)
            inProcess.subscribe(group: CoreService.eventGroup, handlers: core.eventHandlers)
            jobs = SQLJobStore(database: database)
            events = inProcess.publisher
            bus = [inProcess]
        }
        let relays = [("core", databases.core), ("c2c", databases.c2c)].map { service, database in
            OutboxRelay(
                service: service, database: database, publisher: JobRoutingPublisher(jobs: jobs, events: events),
                logger: logger)
        }
        let runner = JobWorker(
            store: jobs, handlers: core.jobHandlers + c2c.jobHandlers, configuration: worker, logger: logger)
        return (jobs, core.backgroundServices + bus + relays + [runner])
    }
}
