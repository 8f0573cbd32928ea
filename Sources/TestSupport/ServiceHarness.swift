package import AuthAPI
package import AuthService
package import C2CAPI
package import C2CService
package import CoreAPI
package import CoreService
package import Foundation
package import GRPCCore
package import GRPCInProcessTransport
package import LedgerAPI
import LedgerService
import Logging
import Messaging
package import Notifications
package import Persistence
import RahatApp
package import ServerKit
import ServiceLifecycle
import SwiftProtobuf
package import TestInfrastructure

/// The services running for a test over gRPC's in-process transport (auth, core, ledger and c2c),
/// with generated clients pointed at them: tests call them exactly as the gateway does.
package struct ServiceHarness: Sendable {
    /// The auth service itself, for what only its owner does (rotating signing keys).
    package let authService: AuthService
    /// The core service itself, to drive its background jobs by hand when they are not running.
    package let core: CoreService
    package let projects: Rahat_Core_V1_ProjectService.Client<InProcessTransport.Client>
    package let beneficiaries: Rahat_Core_V1_BeneficiaryService.Client<InProcessTransport.Client>
    package let groups: Rahat_Core_V1_GroupService.Client<InProcessTransport.Client>
    package let vendors: Rahat_Core_V1_VendorService.Client<InProcessTransport.Client>
    package let imports: Rahat_Core_V1_ImportService.Client<InProcessTransport.Client>
    package let verification: Rahat_Core_V1_VerificationService.Client<InProcessTransport.Client>
    /// The core service's database, to inspect what it wrote (its outbox).
    package let coreDatabase: ServiceDatabase
    /// The messaging database (jobs, the in-process bus), migrated.
    package let messaging: ServiceDatabase
    package let ledger: Rahat_Ledger_V1_LedgerService.Client<InProcessTransport.Client>
    /// The ledger's database, for tests that tamper with it behind the service's back.
    package let ledgerDatabase: ServiceDatabase
    /// project-c2c: approvers and funding; disbursements, redemptions and settlements below.
    package let funds: Rahat_C2c_V1_ProjectFundsService.Client<InProcessTransport.Client>
    package let disbursements: Rahat_C2c_V1_DisbursementService.Client<InProcessTransport.Client>
    package let redemptions: Rahat_C2c_V1_RedemptionService.Client<InProcessTransport.Client>
    package let settlements: Rahat_C2c_V1_SettlementService.Client<InProcessTransport.Client>
    package let c2c: C2CService
    package let c2cDatabase: ServiceDatabase
    package let auth: Rahat_Auth_V1_AuthService.Client<InProcessTransport.Client>
    package let users: Rahat_Auth_V1_UserService.Client<InProcessTransport.Client>
    package let roles: Rahat_Auth_V1_RoleService.Client<InProcessTransport.Client>
    package let apiKeys: Rahat_Auth_V1_ApiKeyService.Client<InProcessTransport.Client>
    package let health: Grpc_Health_V1_Health.Client<InProcessTransport.Client>
    package let engine: DatabaseEngine
    /// The services as assembled, for running their jobs on demand.
    private let services: InProcessServices

    package static let adminEmail = "admin@example.org"
    package static let adminPassword = "correct horse battery staple"
    /// The deployment's service secret in tests.
    package static let serviceSecret = "a service secret for tests, 32+ characters"

    /// The seal of the signing keys the tests' auth databases keep.
    package static let signingKeySeal = SigningKeySeal(keyData: Data(repeating: 5, count: 32))

    /// Test defaults: the cheapest bcrypt cost, a known first admin.
    package static func configuration(database: ServiceDatabaseConfiguration) -> AuthServiceConfiguration {
        AuthServiceConfiguration(
            database: database,
            signingKeySeal: signingKeySeal,
            bcryptCost: 4,
            adminEmail: adminEmail,
            adminPassword: adminPassword,
            serviceSecret: serviceSecret
        )
    }

    /// Runs `body` against the four services, migrated, with the first admin, on fresh databases.
    /// The core service caches beneficiary reads in `cache`, in memory unless a test says otherwise.
    /// With `runsJobs`, the services' jobs (imports, checks, disbursements) run as in the embedded process.
    package static func with<T: Sendable>(
        _ engine: DatabaseEngine,
        configure: @Sendable (inout AuthServiceConfiguration) -> Void = { _ in },
        configureCore: @Sendable (inout CoreServiceConfiguration) -> Void = { _ in },
        cache: (any CacheStore)? = InMemoryCacheStore(),
        runsJobs: Bool = false,
        disbursementBatchSize: Int = 1_000,
        sms: (any SmsSender)? = nil,
        now: @escaping @Sendable () -> Date = Date.init,
        _ body: @Sendable (ServiceHarness) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(engine) { testDatabase in
            var configuration = Self.configuration(database: testDatabase.configuration)
            configure(&configuration)
            let logger = Logger.test
            let database = try ServiceDatabase(
                configuration: configuration.database,
                schema: AuthService.schema,
                logger: logger
            )
            let coreDatabase = try ServiceDatabase(
                configuration: testDatabase.configuration(for: "core"),
                schema: CoreService.schema,
                logger: logger
            )
            let ledgerDatabase = try ServiceDatabase(
                configuration: testDatabase.configuration(for: "ledger"),
                schema: LedgerService.schema,
                logger: logger
            )
            let c2cDatabase = try ServiceDatabase(
                configuration: testDatabase.configuration(for: "c2c"),
                schema: C2CService.schema,
                logger: logger
            )
            // Jobs (imports) run as in the embedded process: queued in the messaging database
            // through the core service's outbox, and run by a worker.
            let messaging = try ServiceDatabase(
                configuration: testDatabase.configuration(for: "messaging"),
                schema: InProcessEventBus.schema,
                logger: logger
            )
            do {
                var coreConfiguration = CoreServiceConfiguration(
                    database: testDatabase.configuration(for: "core"),
                    pii: PIIKeys.generate()
                )
                configureCore(&coreConfiguration)
                let configurations = ServiceConfigurations(
                    auth: configuration,
                    core: coreConfiguration,
                    // Each test walks the chain afresh.
                    ledger: LedgerServiceConfiguration(
                        database: testDatabase.configuration(for: "ledger"), verifyReuse: .zero),
                    c2c: C2CServiceConfiguration(
                        database: testDatabase.configuration(for: "c2c"), serviceSecret: Self.serviceSecret,
                        disbursementBatchSize: disbursementBatchSize,
                        // Codes nobody reads unless a test captures them.
                        sms: .file(
                            path: FileManager.default.temporaryDirectory
                                .appendingPathComponent("rahat-sms-\(UUID().uuidString).jsonl").path))
                )
                let services = try InProcessServices.assemble(
                    configurations,
                    databases: ServiceDatabases(
                        auth: database, core: coreDatabase, ledger: ledgerDatabase, c2c: c2cDatabase),
                    // A loaded two-core machine running the whole suite at once answers slowly; tests check
                    // behaviour, and production keeps its ten-second deadline.
                    rpcTimeout: .seconds(60),
                    cache: cache,
                    sms: sms,
                    logger: logger,
                    // Tests rotate keys and use the new ones at once.
                    options: AssemblyOptions(now: now, keyRefetchInterval: .zero)
                )
                try await services.migrate()
                _ = try await services.auth.bootstrapAdmin()
                let (server, health) = services.server(logger: logger)
                let client = services.client
                let service = services.auth
                let core = services.core
                let c2c = services.c2c
                let result = try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.serve() }
                    group.addTask { try await client.runConnections() }
                    // Only suites that run jobs connect to the messaging database: every suite runs at
                    // once, and PostgreSQL's connections are counted.
                    if runsJobs {
                        try await messaging.migrate(MessagingMigrations.all)
                        for background in Self.jobServices(services, messaging: messaging) {
                            group.addTask { try await background.run() }
                        }
                    }
                    defer {
                        group.cancelAll()
                        client.beginGracefulShutdown()
                        server.beginGracefulShutdown()
                        health.endAllWatches()
                    }
                    do {
                        let harness = ServiceHarness(
                            authService: service,
                            core: core,
                            projects: .init(wrapping: client),
                            beneficiaries: .init(wrapping: client),
                            groups: .init(wrapping: client),
                            vendors: .init(wrapping: client),
                            imports: .init(wrapping: client),
                            verification: .init(wrapping: client),
                            coreDatabase: coreDatabase,
                            messaging: messaging,
                            ledger: .init(wrapping: client),
                            ledgerDatabase: ledgerDatabase,
                            funds: .init(wrapping: client),
                            disbursements: .init(wrapping: client),
                            redemptions: .init(wrapping: client),
                            settlements: .init(wrapping: client),
                            c2c: c2c,
                            c2cDatabase: c2cDatabase,
                            auth: .init(wrapping: client),
                            users: .init(wrapping: client),
                            roles: .init(wrapping: client),
                            apiKeys: .init(wrapping: client),
                            health: .init(wrapping: client),
                            engine: engine,
                            services: services
                        )
                        return try await body(harness)
                    }
                }
                await database.shutdown()
                await coreDatabase.shutdown()
                await messaging.shutdown()
                await ledgerDatabase.shutdown()
                await c2cDatabase.shutdown()
                return result
            } catch {
                await database.shutdown()
                await coreDatabase.shutdown()
                await messaging.shutdown()
                await ledgerDatabase.shutdown()
                await c2cDatabase.shutdown()
                throw error
            }
        }
    }

    /// What runs the services' jobs, as in the embedded process: core's and project-c2c's outboxes
    /// relayed to a job store in the messaging database, and a worker with their handlers.
    static func jobServices(_ services: InProcessServices, messaging: ServiceDatabase) -> [any Service] {
        var worker = JobWorkerConfiguration()
        worker.idleWait = .milliseconds(100)
        return services.messaging(.database(messaging), worker: worker, logger: .test).services
    }

    /// Runs the core service's jobs while `body` runs (for a harness made with `runsJobs: false`).
    package func runningJobs<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await messaging.migrate(MessagingMigrations.all)
        let services = Self.jobServices(self.services, messaging: messaging)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            for service in services {
                group.addTask {
                    try await service.run()
                    return nil
                }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// The events the core service has written to its outbox, oldest first.
    package func coreOutbox() async throws -> [StoredOutboxEvent] {
        // The harness's relay may already have sent them.
        try await Outbox.pending(limit: 1000, includingSent: true, on: coreDatabase.db)
    }

    /// An account's balance in the ledger, `nil` before its first transfer opened it.
    package func balance(
        _ kind: Rahat_Ledger_V1_AccountKind, project: String, owner: String? = nil, as caller: Metadata
    ) async throws -> Int64? {
        do {
            return try await ledger.findAccount(
                .with {
                    $0.kind = kind
                    $0.projectID = project
                    if let owner { $0.ownerID = owner }
                }, metadata: caller
            ).balance
        } catch let error as RPCError where error.code == .notFound {
            return nil
        }
    }

    /// Logs in and returns the token pair.
    package func login(
        _ email: String = adminEmail,
        _ password: String = adminPassword,
        from ip: String = "192.0.2.1"
    ) async throws -> Rahat_Auth_V1_TokenPair {
        try await auth.login(
            .with {
                $0.email = email
                $0.password = password
            },
            metadata: IncomingCall(clientIP: ip).metadata
        )
    }

    /// Metadata that authenticates a call with `token`.
    package static func bearer(_ token: String) -> Metadata {
        IncomingCall(authorization: "Bearer \(token)").metadata
    }

    /// Creates a user as the admin and returns it with a fresh login.
    package func createUser(
        email: String,
        password: String = "another long passphrase",
        roles: [Rahat_Auth_V1_RoleAssignment] = [],
        as adminToken: String
    ) async throws -> (user: Rahat_Auth_V1_User, tokens: Rahat_Auth_V1_TokenPair) {
        let user = try await users.createUser(
            .with {
                $0.name = "Test User"
                $0.email = email
                $0.password = password
                $0.roles = roles
            },
            metadata: Self.bearer(adminToken)
        )
        return (user, try await login(email, password))
    }

    /// Creates a role `role` of `permissions` and a user `<role>@example.org` holding it, and
    /// returns the user's fresh login.
    package func createUser(
        holding role: String, permissions: [String], as adminToken: String
    ) async throws -> Rahat_Auth_V1_TokenPair {
        _ = try await roles.createRole(
            .with {
                $0.name = role
                $0.permissions = permissions
            },
            metadata: Self.bearer(adminToken))
        return try await createUser(email: "\(role)@example.org", roles: [.role(role)], as: adminToken).tokens
    }
}

extension Rahat_Auth_V1_RoleAssignment {
    /// A role assignment, optionally scoped to one project.
    package static func role(_ name: String, project: String? = nil) -> Self {
        .with {
            $0.role = name
            if let project { $0.projectID = project }
        }
    }
}

extension ServiceHarness {
    /// A service token for `service`, issued by a second auth service over the same database
    /// and secret as `configuration`'s, as a token stolen from between the services would be.
    package static func serviceToken(
        _ service: String, configuration: AuthServiceConfiguration, secret: String = serviceSecret
    ) async throws -> String {
        let database = try ServiceDatabase(
            configuration: configuration.database, schema: AuthService.schema, logger: .test)
        do {
            let auth = try AuthService(configuration: configuration, database: database, logger: .test)
            let transport = InProcessTransport()
            let server = GRPCServer(transport: transport.server, services: auth.rpcServices)
            let client = GRPCClient(transport: transport.client)
            let token = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                group.addTask { try await client.runConnections() }
                defer {
                    client.beginGracefulShutdown()
                    server.beginGracefulShutdown()
                }
                return try await Rahat_Auth_V1_AuthService.Client(wrapping: client).issueServiceToken(
                    .with {
                        $0.service = service
                        $0.secret = secret
                    }
                ).accessToken
            }
            await database.shutdown()
            return token
        } catch {
            await database.shutdown()
            throw error
        }
    }
}
