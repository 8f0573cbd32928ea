import AuthService
import Foundation
import GRPCCore
import GRPCInProcessTransport
import GRPCNIOTransportHTTP2
import Gateway
package import Hummingbird
package import Logging
import Persistence
import ServerKit
package import ServiceLifecycle

/// What `rahat serve` tells the person who started it.
package struct StartupNotice: Sendable {
    /// The first admin's credentials when this start created it; the password only if generated.
    package var createdAdmin: (email: String, generatedPassword: String?)?
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
        let database = try ServiceDatabase(
            configuration: configuration.auth.database, schema: AuthService.schema, logger: logger)
        do {
            let auth = try AuthService(configuration: configuration.auth, database: database, logger: logger)
            try await auth.migrate()
            let admin = try await auth.bootstrapAdmin()

            let health = HealthService()
            let transport = InProcessTransport(serviceConfig: RPCDefaults.serviceConfig)
            let server = GRPCServer(
                transport: transport.server,
                services: auth.rpcServices + [health.rpcService],
                interceptors: serverInterceptors(logger: logger)
            )
            let client = GRPCClient(transport: transport.client)
            markServing(health, services: AuthService.rpcServiceNames)

            let gateway = try Gateway.application(
                configuration: configuration.gateway,
                auth: AuthBackend(client: client),
                extraReadiness: auth.readinessChecks,
                logger: logger,
                onServerRunning: onGatewayRunning
            )
            return GatewayProcess(
                gateway: gateway,
                background: [
                    database, GRPCServerService(server: server), GRPCClientService(client: client),
                    HealthDrain(health: health),
                ],
                notice: StartupNotice(createdAdmin: admin)
            )
        } catch {
            await database.shutdown()
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
        let database = try ServiceDatabase(
            configuration: configuration.auth.database, schema: AuthService.schema, logger: logger)
        do {
            let auth = try AuthService(configuration: configuration.auth, database: database, logger: logger)
            if configuration.migrateOnStart {
                try await auth.migrate()
            } else {
                let pending = try await database.pendingMigrations(AuthMigrations.all)
                if !pending.isEmpty {
                    throw ConfigurationError(problems: [
                        "the auth database has \(pending.count) pending migration(s); run 'rahat migrate' first or set RAHAT_MIGRATE_ON_START=true"
                    ])
                }
            }
            let admin = try await auth.bootstrapAdmin()
            let health = HealthService()
            let listen = configuration.listen
            let transport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: listen.grpcHost, port: listen.grpcPort),
                transportSecurity: .plaintext
            )
            let server = GRPCServer(
                transport: transport,
                services: auth.rpcServices + [health.rpcService],
                interceptors: serverInterceptors(logger: logger)
            )
            markServing(health, services: AuthService.rpcServiceNames)
            let ops = OpsServer.application(
                host: listen.opsHost,
                port: listen.opsPort,
                readiness: Readiness(checks: auth.readinessChecks),
                logger: logger,
                onServerRunning: onOpsRunning
            )
            let announcer = ListeningAnnouncer(transport: transport, onRunning: onGRPCRunning)
            let services: [any Service] = [
                database, GRPCServerService(server: server), announcer, ops, HealthDrain(health: health),
            ]
            return (services, StartupNotice(createdAdmin: admin))
        } catch {
            await database.shutdown()
            throw error
        }
    }

    /// `rahat serve gateway`: the public HTTP edge, calling the auth service over HTTP/2.
    package static func gatewayProcess(
        configuration: GatewayProcessConfiguration,
        logger: Logger,
        onGatewayRunning: (@Sendable (Int) async -> Void)? = nil
    ) throws -> GatewayProcess<some ApplicationProtocol> {
        let client = GRPCClient(
            transport: try .http2NIOPosix(
                target: .dns(host: configuration.authHost, port: configuration.authPort),
                transportSecurity: .plaintext,
                serviceConfig: RPCDefaults.serviceConfig
            )
        )
        let gateway = try Gateway.application(
            configuration: configuration.gateway,
            auth: AuthBackend(client: client),
            logger: logger,
            onServerRunning: onGatewayRunning
        )
        return GatewayProcess(
            gateway: gateway, background: [GRPCClientService(client: client)], notice: StartupNotice())
    }

    /// Applies every service's pending migrations, or reverts each service's last batch.
    package static func migrate(
        configuration: MigrateConfiguration, revert: Bool, logger: Logger
    ) async throws -> [String] {
        let database = try ServiceDatabase(
            configuration: configuration.auth.database, schema: AuthService.schema, logger: logger)
        defer { Task { await database.shutdown() } }
        do {
            let pending = try await database.pendingMigrations(AuthMigrations.all)
            if revert {
                try await database.revertLastBatch(AuthMigrations.all)
            } else {
                try await database.migrate(AuthMigrations.all)
            }
            await database.shutdown()
            return revert ? [] : pending
        } catch {
            await database.shutdown()
            throw error
        }
    }

    /// `rahat auth rotate-signing-key`.
    package static func rotateSigningKey(configuration: MigrateConfiguration, logger: Logger) async throws -> String {
        let database = try ServiceDatabase(
            configuration: configuration.auth.database, schema: AuthService.schema, logger: logger)
        do {
            let auth = try AuthService(configuration: configuration.auth, database: database, logger: logger)
            let kid = try await auth.rotateSigningKey()
            await database.shutdown()
            return kid
        } catch {
            await database.shutdown()
            throw error
        }
    }

    static func serverInterceptors(logger: Logger) -> [any ServerInterceptor] {
        [IncomingCallInterceptor(), ErrorLoggingInterceptor(logger: logger)]
    }

    private static func markServing(_ health: HealthService, services: [String]) {
        health.setStatus(.serving)
        for service in services { health.setStatus(.serving, forService: service) }
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
