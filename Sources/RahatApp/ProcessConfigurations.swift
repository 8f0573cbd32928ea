package import AuthService
package import C2CService
package import CoreService
import Foundation
package import Gateway
package import LedgerService
import Logging
import Messaging
package import Notifications
package import Persistence
import RedisClient
package import ServerKit

/// Settings every process shares.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_DATA_DIR` | `./.rahat` | where the embedded default keeps its SQLite files |
/// | `RAHAT_LOG_LEVEL` | `info` | trace, debug, info, notice, warning, error, critical |
/// | `RAHAT_LOG_FORMAT` | `json` | `json` lines for collectors, `text` for a terminal |
/// | `RAHAT_CONFIG_FILE` | none | an env-format file read after the environment |
/// | `REDIS_URL` / `_FILE` | none | `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS: shared cache and rate limits; without it they live in the process |
/// | `RAHAT_REDIS_POOL_SIZE` | `8` | connections per process (each carries many pipelined commands) |
/// | `RAHAT_REDIS_TIMEOUT_MS` | `2000` | how long connecting to Redis, or one command, may take before it fails |
/// | `RAHAT_RPC_TIMEOUT_MS` | `10000` | the deadline of a call to another service (file transfers have their own) |
/// | `RAHAT_SHUTDOWN_TIMEOUT_SECONDS` | `30` | how long SIGTERM waits for requests, streams and jobs to finish before cancelling them |
/// | `RAHAT_GRPC_TLS_CERT`, `_KEY`, `_CA`, `RAHAT_GRPC_GATEWAY_NAMES` | none, `gateway` | mutual TLS between processes (``InternalTLS``) |
package struct CommonConfiguration: Sendable, Equatable {
    package var dataDirectory: String
    package var log: LogConfiguration
    /// Redis for state processes share; `nil` keeps it in each process.
    package var redis: RedisSettings?
    /// The deadline of calls to other services that set none of their own.
    package var rpcTimeout: Duration
    /// How long SIGTERM's drain of requests, streams and jobs may take before what is left is cancelled.
    package var shutdownTimeout: Duration
    /// Mutual TLS for gRPC between processes; `nil` is plaintext (the embedded default calls in memory).
    package var internalTLS: InternalTLS?

    package init(
        dataDirectory: String = "./.rahat", log: LogConfiguration = LogConfiguration(), redis: RedisSettings? = nil,
        rpcTimeout: Duration = RPCDefaults.timeout, shutdownTimeout: Duration = .seconds(30),
        internalTLS: InternalTLS? = nil
    ) {
        self.internalTLS = internalTLS
        self.dataDirectory = dataDirectory
        self.log = log
        self.redis = redis
        self.rpcTimeout = rpcTimeout
        self.shutdownTimeout = shutdownTimeout
    }

    init(from source: inout ConfigurationSource) {
        dataDirectory = source.string("RAHAT_DATA_DIR", default: "./.rahat")
        log = LogConfiguration(from: &source)
        rpcTimeout = .milliseconds(source.int("RAHAT_RPC_TIMEOUT_MS", default: 10_000, in: 100...600_000))
        shutdownTimeout = .seconds(source.int("RAHAT_SHUTDOWN_TIMEOUT_SECONDS", default: 30, in: 1...3600))
        internalTLS = InternalTLS.read(from: &source)
        let poolSize = source.int("RAHAT_REDIS_POOL_SIZE", default: 8, in: 1...256)
        let timeout = source.int("RAHAT_REDIS_TIMEOUT_MS", default: 2000, in: 10...60_000)
        let jobsKeyPrefix = source.string("RAHAT_JOBS_KEY_PREFIX", default: "rahat:jobs:")
        if jobsKeyPrefix.isEmpty
            || !jobsKeyPrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ":_-".contains($0)) })
        {
            source.report("RAHAT_JOBS_KEY_PREFIX: '\(jobsKeyPrefix)' may hold only letters, digits, ':', '_' and '-'")
        }
        if let url = source.secret("REDIS_URL"), !url.isEmpty {
            do {
                _ = try RedisConfiguration(url: url)
                redis = RedisSettings(
                    url: url, poolSize: poolSize, commandTimeout: .milliseconds(timeout), jobsKeyPrefix: jobsKeyPrefix)
            } catch {
                source.report("REDIS_URL: \(error)")
            }
        }
    }
}

/// Where a process finds Redis and how it talks to it.
package struct RedisSettings: Sendable, Equatable {
    /// `redis://` or `rediss://` URL, credentials included.
    package var url: String
    /// Connections per process.
    package var poolSize: Int
    /// How long one command may take.
    package var commandTimeout: Duration
    /// Where the job queue's keys live (`RAHAT_JOBS_KEY_PREFIX`), so that deployments sharing one
    /// Redis keep separate queues.
    package var jobsKeyPrefix: String

    /// Settings for the server at `url`.
    package init(
        url: String, poolSize: Int = 8, commandTimeout: Duration = .seconds(2), jobsKeyPrefix: String = "rahat:jobs:"
    ) {
        self.url = url
        self.poolSize = poolSize
        self.commandTimeout = commandTimeout
        self.jobsKeyPrefix = jobsKeyPrefix
    }

    /// The job queue on `client`, under this deployment's prefix.
    func jobStore(_ client: RedisClient) -> RedisJobStore {
        RedisJobStore(redis: client, keyPrefix: jobsKeyPrefix)
    }

    /// A client named after the process in `CLIENT LIST`, connecting lazily.
    func client(name: String, logger: Logger) throws -> RedisClient {
        RedisClient(configuration: try configuration(name: name), logger: logger)
    }

    /// The client configuration these settings describe.
    func configuration(name: String) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = poolSize
        configuration.commandTimeout = commandTimeout
        configuration.connectTimeout = commandTimeout
        configuration.poolWaitTimeout = max(.seconds(5), commandTimeout * 2)
        configuration.clientName = name
        return configuration
    }
}

/// `rahat serve` with no process named: everything in one process.
package struct EmbeddedConfiguration: Sendable, Equatable {
    package var common: CommonConfiguration
    package var gateway: GatewayConfiguration
    package var auth: AuthServiceConfiguration
    package var core: CoreServiceConfiguration
    package var ledger: LedgerServiceConfiguration
    package var c2c: C2CServiceConfiguration

    package static func load(from source: ConfigurationSource) throws -> EmbeddedConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let auth = AuthServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let configuration = EmbeddedConfiguration(
            common: common,
            gateway: GatewayConfiguration(from: &source),
            auth: auth,
            core: CoreServiceConfiguration(from: &source, dataDirectory: common.dataDirectory),
            ledger: LedgerServiceConfiguration(from: &source, dataDirectory: common.dataDirectory),
            // One process, one service secret: read (and checked) once, with the auth service's.
            c2c: C2CServiceConfiguration(
                from: &source, dataDirectory: common.dataDirectory, serviceSecret: .some(auth.serviceSecret))
        )
        try source.validate()
        return configuration
    }

    package init(
        common: CommonConfiguration,
        gateway: GatewayConfiguration,
        auth: AuthServiceConfiguration,
        core: CoreServiceConfiguration,
        ledger: LedgerServiceConfiguration? = nil,
        c2c: C2CServiceConfiguration? = nil
    ) {
        self.common = common
        self.gateway = gateway
        self.auth = auth
        self.core = core
        self.ledger = ledger ?? LedgerServiceConfiguration(database: .sibling("ledger", of: core.database))
        self.c2c =
            c2c
            ?? C2CServiceConfiguration(
                database: .sibling("c2c", of: core.database), sms: .file(path: Self.smsFile(besides: core.database)))
    }

    /// `sms.jsonl` beside a service's SQLite file, or in the temporary directory beside a PostgreSQL one.
    private static func smsFile(besides database: ServiceDatabaseConfiguration) -> String {
        let directory =
            if case .sqlite(let path) = database.location {
                URL(fileURLWithPath: path).deletingLastPathComponent()
            } else {
                FileManager.default.temporaryDirectory
            }
        return directory.appendingPathComponent("sms.jsonl").path
    }

    /// Where the in-process event bus keeps deliveries awaiting a retry.
    package var messagingDatabase: ServiceDatabaseConfiguration { .messaging(besides: core.database) }
}

extension ServiceDatabaseConfiguration {
    /// Another service's database beside `service`'s: the same PostgreSQL database (each service in
    /// its schema), or `<name>.sqlite` in the same directory.
    package static func sibling(
        _ name: String, of service: ServiceDatabaseConfiguration
    ) -> ServiceDatabaseConfiguration {
        var configuration = service
        if case .sqlite(let path) = service.location {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            configuration.location = .sqlite(path: directory.appendingPathComponent("\(name).sqlite").path)
        }
        return configuration
    }

    /// The in-process event bus's database: `messaging.sqlite` beside a service's file, or the
    /// `messaging` schema of the same PostgreSQL database.
    package static func messaging(besides service: ServiceDatabaseConfiguration) -> ServiceDatabaseConfiguration {
        var configuration = sibling("messaging", of: service)
        // Its statements are short (a job claim, a state change): a small pool serves them.
        configuration.maxConnectionsPerEventLoop = min(configuration.maxConnectionsPerEventLoop, 2)
        return configuration
    }
}

/// Where a distributed process listens for gRPC and for its operations HTTP port.
package struct ServiceListenConfiguration: Sendable, Equatable {
    package var grpcHost: String
    package var grpcPort: Int
    package var opsHost: String
    package var opsPort: Int

    init(from source: inout ConfigurationSource, prefix: String, grpcPort: Int, opsPort: Int) {
        self.grpcHost = source.string("\(prefix)_GRPC_HOST", default: "127.0.0.1")
        self.grpcPort = source.int("\(prefix)_GRPC_PORT", default: grpcPort, in: 0...65_535)
        self.opsHost = source.string("\(prefix)_HTTP_HOST", default: "127.0.0.1")
        self.opsPort = source.int("\(prefix)_HTTP_PORT", default: opsPort, in: 0...65_535)
    }
}

/// `rahat serve auth`.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_AUTH_GRPC_HOST` / `_PORT` | `127.0.0.1` / `7101` | gRPC listener |
/// | `RAHAT_AUTH_HTTP_HOST` / `_PORT` | `127.0.0.1` / `7102` | `/health`, `/readiness`, `/metrics` |
/// | `RAHAT_MIGRATE_ON_START` | `false` | apply migrations at start instead of by `rahat migrate` |
package struct AuthProcessConfiguration: Sendable, Equatable {
    package var common: CommonConfiguration
    package var auth: AuthServiceConfiguration
    package var listen: ServiceListenConfiguration
    package var migrateOnStart: Bool

    package static func load(from source: ConfigurationSource) throws -> AuthProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let configuration = AuthProcessConfiguration(
            common: common,
            auth: AuthServiceConfiguration(from: &source, dataDirectory: common.dataDirectory),
            listen: ServiceListenConfiguration(from: &source, prefix: "RAHAT_AUTH", grpcPort: 7101, opsPort: 7102),
            migrateOnStart: source.bool("RAHAT_MIGRATE_ON_START", default: false)
        )
        requirePostgres(configuration.auth.database, for: "auth", in: &source)
        if configuration.auth.signingKeyPEM == nil && configuration.auth.signingKeySeal == nil
            && source.raw("RAHAT_JWT_SEAL_KEY", isSecret: true) == nil && source.raw("RAHAT_JWT_SEAL_KEY_FILE") == nil
        {
            source.report(
                "RAHAT_JWT_SEAL_KEY: required by 'rahat serve auth' (base64 of 32 bytes: openssl rand -base64 32), "
                    + "unless RAHAT_JWT_PRIVATE_KEY gives the signing key")
        }
        try source.validate()
        return configuration
    }
}

/// `rahat serve core`.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_CORE_GRPC_HOST` / `_PORT` | `127.0.0.1` / `7111` | gRPC listener |
/// | `RAHAT_CORE_HTTP_HOST` / `_PORT` | `127.0.0.1` / `7112` | `/health`, `/readiness`, `/metrics` |
/// | `RAHAT_AUTH_ADDRESS` | `127.0.0.1:7101` | the auth service, for its public keys |
/// | `RAHAT_MIGRATE_ON_START` | `false` | apply migrations at start instead of by `rahat migrate` |
package struct CoreProcessConfiguration: Sendable, Equatable {
    package var common: CommonConfiguration
    package var core: CoreServiceConfiguration
    /// Where vendors are told of changes to their payout accounts.
    package var sms: SmsConfiguration
    package var listen: ServiceListenConfiguration
    package var authHost: String
    package var authPort: Int
    package var migrateOnStart: Bool

    package static func load(from source: ConfigurationSource) throws -> CoreProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let core = CoreServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let (authHost, authPort) = address(&source, "RAHAT_AUTH_ADDRESS", default: ("127.0.0.1", 7101))
        let configuration = CoreProcessConfiguration(
            common: common,
            core: core,
            sms: SmsConfiguration(from: &source, dataDirectory: common.dataDirectory),
            listen: ServiceListenConfiguration(from: &source, prefix: "RAHAT_CORE", grpcPort: 7111, opsPort: 7112),
            authHost: authHost,
            authPort: authPort,
            migrateOnStart: source.bool("RAHAT_MIGRATE_ON_START", default: false)
        )
        requirePostgres(core.database, for: "core", in: &source)
        SmsConfiguration.requireSender(in: &source, process: "rahat serve core")
        if core.pii == nil {
            source.report("RAHAT_PII_KEYS and RAHAT_PII_INDEX_KEY: required by 'rahat serve core'")
        }
        try source.validate()
        return configuration
    }
}

/// `rahat serve ledger`: the ledger service alone.
package struct LedgerProcessConfiguration: Sendable, Equatable {
    package var common: CommonConfiguration
    package var ledger: LedgerServiceConfiguration
    package var listen: ServiceListenConfiguration
    package var authHost: String
    package var authPort: Int
    package var migrateOnStart: Bool

    package static func load(from source: ConfigurationSource) throws -> LedgerProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let ledger = LedgerServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let (authHost, authPort) = address(&source, "RAHAT_AUTH_ADDRESS", default: ("127.0.0.1", 7101))
        let configuration = LedgerProcessConfiguration(
            common: common,
            ledger: ledger,
            listen: ServiceListenConfiguration(from: &source, prefix: "RAHAT_LEDGER", grpcPort: 7121, opsPort: 7122),
            authHost: authHost,
            authPort: authPort,
            migrateOnStart: source.bool("RAHAT_MIGRATE_ON_START", default: false)
        )
        requirePostgres(ledger.database, for: "ledger", in: &source)
        try source.validate()
        return configuration
    }
}

/// `rahat serve c2c`: project-c2c alone.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_AUTH_ADDRESS` | `127.0.0.1:7101` | the auth service's gRPC `host:port` |
/// | `RAHAT_CORE_ADDRESS` | `127.0.0.1:7111` | the core service's gRPC `host:port` |
/// | `RAHAT_LEDGER_ADDRESS` | `127.0.0.1:7121` | the ledger service's gRPC `host:port` |
package struct C2CProcessConfiguration: Sendable, Equatable {
    package var common: CommonConfiguration
    package var c2c: C2CServiceConfiguration
    package var listen: ServiceListenConfiguration
    package var authHost: String
    package var authPort: Int
    package var coreHost: String
    package var corePort: Int
    package var ledgerHost: String
    package var ledgerPort: Int
    package var migrateOnStart: Bool

    package static func load(from source: ConfigurationSource) throws -> C2CProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let c2c = C2CServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let auth = address(&source, "RAHAT_AUTH_ADDRESS", default: ("127.0.0.1", 7101))
        let core = address(&source, "RAHAT_CORE_ADDRESS", default: ("127.0.0.1", 7111))
        let ledger = address(&source, "RAHAT_LEDGER_ADDRESS", default: ("127.0.0.1", 7121))
        let configuration = C2CProcessConfiguration(
            common: common,
            c2c: c2c,
            listen: ServiceListenConfiguration(from: &source, prefix: "RAHAT_C2C", grpcPort: 7131, opsPort: 7132),
            authHost: auth.host,
            authPort: auth.port,
            coreHost: core.host,
            corePort: core.port,
            ledgerHost: ledger.host,
            ledgerPort: ledger.port,
            migrateOnStart: source.bool("RAHAT_MIGRATE_ON_START", default: false)
        )
        requirePostgres(c2c.database, for: "c2c", in: &source)
        SmsConfiguration.requireSender(in: &source, process: "rahat serve c2c")
        if c2c.serviceSecret == nil && source.raw("RAHAT_SERVICE_SECRET_FILE") == nil
            && source.raw("RAHAT_SERVICE_SECRET", isSecret: true) == nil
        {
            source.report("RAHAT_SERVICE_SECRET: required by 'rahat serve c2c' (the same as the auth service's)")
        }
        try source.validate()
        return configuration
    }
}

/// `rahat serve gateway`.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_AUTH_ADDRESS` | `127.0.0.1:7101` | the auth service's gRPC `host:port` |
/// | `RAHAT_CORE_ADDRESS` | `127.0.0.1:7111` | the core service's gRPC `host:port` |
/// | `RAHAT_LEDGER_ADDRESS` | `127.0.0.1:7121` | the ledger service's gRPC `host:port` |
/// | `RAHAT_C2C_ADDRESS` | `127.0.0.1:7131` | project-c2c's gRPC `host:port` |
/// | `RAHAT_GATEWAY_OPS_HOST` / `_PORT` | `127.0.0.1` / `8081` | `/health`, `/readiness` and `/metrics`, off the public listener |
package struct GatewayProcessConfiguration: Sendable, Equatable {
    package var common: CommonConfiguration
    package var gateway: GatewayConfiguration
    /// Where the operations listener (`/health`, `/readiness`, `/metrics`) is bound.
    package var opsHost: String
    package var opsPort: Int
    package var authHost: String
    package var authPort: Int
    package var coreHost: String
    package var corePort: Int
    package var ledgerHost: String
    package var ledgerPort: Int
    package var c2cHost: String
    package var c2cPort: Int

    package static func load(from source: ConfigurationSource) throws -> GatewayProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        // Metrics name routes, clients and counts: the public edge of a deployment keeps them
        // on the operations port, which only the cluster reaches.
        let gateway = GatewayConfiguration(from: &source, publicMetrics: false)
        let auth = address(&source, "RAHAT_AUTH_ADDRESS", default: ("127.0.0.1", 7101))
        let core = address(&source, "RAHAT_CORE_ADDRESS", default: ("127.0.0.1", 7111))
        let ledger = address(&source, "RAHAT_LEDGER_ADDRESS", default: ("127.0.0.1", 7121))
        let c2c = address(&source, "RAHAT_C2C_ADDRESS", default: ("127.0.0.1", 7131))
        let opsHost = source.string("RAHAT_GATEWAY_OPS_HOST", default: "127.0.0.1")
        let opsPort = source.int("RAHAT_GATEWAY_OPS_PORT", default: 8081, in: 0...65_535)
        try source.validate()
        return GatewayProcessConfiguration(
            common: common,
            gateway: gateway,
            opsHost: opsHost,
            opsPort: opsPort,
            authHost: auth.host,
            authPort: auth.port,
            coreHost: core.host,
            corePort: core.port,
            ledgerHost: ledger.host,
            ledgerPort: ledger.port,
            c2cHost: c2c.host,
            c2cPort: c2c.port
        )
    }
}

/// `rahat serve worker`: runs the job handlers of every service, with those services' database
/// settings (the handlers work on their data), the job queue on Redis, and an operations port.
package struct WorkerProcessConfiguration: Sendable, Equatable {
    package var common: CommonConfiguration
    package var core: CoreServiceConfiguration
    package var c2c: C2CServiceConfiguration
    package var authHost: String
    package var authPort: Int
    /// Where project-c2c's jobs reach core and the ledger.
    package var coreHost: String
    package var corePort: Int
    package var ledgerHost: String
    package var ledgerPort: Int
    /// Jobs run at once per queue in this process (`RAHAT_WORKER_CONCURRENCY`).
    package var concurrency: Int
    package var opsHost: String
    package var opsPort: Int

    package static func load(from source: ConfigurationSource) throws -> WorkerProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let core = CoreServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let c2c = C2CServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let (authHost, authPort) = address(&source, "RAHAT_AUTH_ADDRESS", default: ("127.0.0.1", 7101))
        let coreAddress = address(&source, "RAHAT_CORE_ADDRESS", default: ("127.0.0.1", 7111))
        let ledgerAddress = address(&source, "RAHAT_LEDGER_ADDRESS", default: ("127.0.0.1", 7121))
        let configuration = WorkerProcessConfiguration(
            common: common,
            core: core,
            c2c: c2c,
            authHost: authHost,
            authPort: authPort,
            coreHost: coreAddress.host,
            corePort: coreAddress.port,
            ledgerHost: ledgerAddress.host,
            ledgerPort: ledgerAddress.port,
            concurrency: source.int("RAHAT_WORKER_CONCURRENCY", default: 4, in: 1...256),
            opsHost: source.string("RAHAT_WORKER_HTTP_HOST", default: "127.0.0.1"),
            opsPort: source.int("RAHAT_WORKER_HTTP_PORT", default: 7192, in: 0...65_535)
        )
        if common.redis == nil {
            source.report(
                "REDIS_URL: required by 'rahat serve worker' (the job queue); the embedded default is 'rahat serve'")
        }
        requirePostgres(core.database, c2c.database, for: "worker", in: &source)
        SmsConfiguration.requireSender(in: &source, process: "rahat serve worker")
        if core.pii == nil {
            source.report("RAHAT_PII_KEYS and RAHAT_PII_INDEX_KEY: required by 'rahat serve worker'")
        }
        if c2c.serviceSecret == nil && source.raw("RAHAT_SERVICE_SECRET_FILE") == nil
            && source.raw("RAHAT_SERVICE_SECRET", isSecret: true) == nil
        {
            source.report(
                "RAHAT_SERVICE_SECRET: required by 'rahat serve worker' (disbursement jobs call the ledger as project-c2c)"
            )
        }
        try source.validate()
        return configuration
    }
}

/// A service process of the distributed deployment runs on PostgreSQL only.
private func requirePostgres(
    _ databases: ServiceDatabaseConfiguration..., for process: String, in source: inout ConfigurationSource
) {
    let onSQLite = databases.contains { if case .sqlite = $0.location { true } else { false } }
    guard onSQLite else { return }
    source.report(
        "DATABASE_URL: required by 'rahat serve \(process)' (a postgres:// URL, or the service's own "
            + "RAHAT_<SERVICE>_DATABASE_URL); the embedded default is 'rahat serve'")
}

/// Reads a `host:port` setting.
private func address(
    _ source: inout ConfigurationSource,
    _ name: String,
    default fallback: (host: String, port: Int)
) -> (host: String, port: Int) {
    let text = source.string(name, default: "\(fallback.host):\(fallback.port)")
    if let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (1...65_535).contains(port), colon != text.startIndex
    {
        return (String(text[..<colon]), port)
    }
    source.report("\(name): '\(text)' is not host:port")
    return fallback
}

/// `rahat migrate`: only what the migrations need.
package struct MigrateConfiguration: Sendable, Equatable {
    package var common: CommonConfiguration
    package var auth: AuthServiceConfiguration
    package var core: CoreServiceConfiguration
    package var ledger: LedgerServiceConfiguration
    package var c2c: C2CServiceConfiguration

    package static func load(from source: ConfigurationSource) throws -> MigrateConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let configuration = MigrateConfiguration(
            common: common,
            auth: AuthServiceConfiguration(from: &source, dataDirectory: common.dataDirectory),
            core: CoreServiceConfiguration(from: &source, dataDirectory: common.dataDirectory),
            ledger: LedgerServiceConfiguration(from: &source, dataDirectory: common.dataDirectory),
            c2c: C2CServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        )
        try source.validate()
        return configuration
    }
}
