package import AuthService
package import C2CService
package import Console
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
/// | `RAHAT_LOG_FORMAT` | `text` on a terminal, else `json` | `json` lines for collectors, `text` for a person |
/// | `RAHAT_VERSION` | `dev` | the release this process runs, as the image or package names it: `rahat_build_info` and the traces' `service.version` |
/// | `RAHAT_CONFIG_FILE` | none | an env-format file read after the environment |
/// | `REDIS_URL` / `_FILE` | none | `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS: shared cache and rate limits; without it they live in the process |
/// | `RAHAT_REDIS_POOL_SIZE` | `8` | connections per process (each carries many pipelined commands) |
/// | `RAHAT_REDIS_TIMEOUT_MS` | `2000` | how long connecting to Redis, or one command, may take before it fails |
/// | `RAHAT_RPC_TIMEOUT_MS` | `10000` | the deadline of a call to another service (file transfers and roster streams have their own) |
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
    /// The release running, as the deployment names it.
    package var version: String

    package init(
        dataDirectory: String = "./.rahat", log: LogConfiguration = LogConfiguration(), redis: RedisSettings? = nil,
        rpcTimeout: Duration = RPCDefaults.timeout, shutdownTimeout: Duration = .seconds(30),
        internalTLS: InternalTLS? = nil, version: String = "dev"
    ) {
        self.internalTLS = internalTLS
        self.version = version
        self.dataDirectory = dataDirectory
        self.log = log
        self.redis = redis
        self.rpcTimeout = rpcTimeout
        self.shutdownTimeout = shutdownTimeout
    }

    init(from source: inout ConfigurationSource) {
        dataDirectory = source.string("RAHAT_DATA_DIR", default: "./.rahat")
        version = source.string("RAHAT_VERSION", default: "dev")
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
    package var console = ConsoleConfiguration()
    package var auth: AuthServiceConfiguration
    package var core: CoreServiceConfiguration
    package var ledger: LedgerServiceConfiguration
    package var c2c: C2CServiceConfiguration

    package static func load(from source: ConfigurationSource) throws -> EmbeddedConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let auth = AuthServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        var configuration = EmbeddedConfiguration(
            common: common,
            gateway: GatewayConfiguration(from: &source),
            auth: auth,
            core: CoreServiceConfiguration(from: &source, dataDirectory: common.dataDirectory),
            ledger: LedgerServiceConfiguration(from: &source, dataDirectory: common.dataDirectory),
            // One process, one service secret: read (and checked) once, with the auth service's.
            c2c: C2CServiceConfiguration(
                from: &source, dataDirectory: common.dataDirectory, serviceSecret: .some(auth.serviceSecret))
        )
        configuration.console = ConsoleConfiguration(from: &source)
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

/// The services of the distributed deployment, each a process of its own with its gRPC port.
package enum ServiceRole: String, Sendable, CaseIterable {
    case auth, core, ledger, c2c

    /// The gRPC port it listens on unless told otherwise; its operations port is the next one.
    var defaultGRPCPort: Int {
        switch self {
        case .auth: 7101
        case .core: 7111
        case .ledger: 7121
        case .c2c: 7131
        }
    }

    /// The prefix of its settings: `RAHAT_AUTH_GRPC_PORT`, `RAHAT_AUTH_ADDRESS`, …
    var settingPrefix: String { "RAHAT_\(rawValue.uppercased())" }
}

/// Where a process finds another service's gRPC listener (`RAHAT_<SERVICE>_ADDRESS`, `host:port`).
package struct ServiceAddress: Sendable, Equatable {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `RAHAT_<SERVICE>_ADDRESS`, by default the service's own default port on loopback.
    init(from source: inout ConfigurationSource, of service: ServiceRole) {
        let name = "\(service.settingPrefix)_ADDRESS"
        let fallback = ServiceAddress(host: "127.0.0.1", port: service.defaultGRPCPort)
        let text = source.string(name, default: "\(fallback.host):\(fallback.port)")
        if let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65_535).contains(port), colon != text.startIndex
        {
            self.init(host: String(text[..<colon]), port: port)
        } else {
            source.report("\(name): '\(text)' is not host:port")
            self = fallback
        }
    }
}

/// Where a distributed process listens for gRPC and for its operations HTTP port.
package struct ServiceListenConfiguration: Sendable, Equatable {
    package var grpcHost: String
    package var grpcPort: Int
    package var opsHost: String
    package var opsPort: Int

    /// Reads `RAHAT_<SERVICE>_GRPC_HOST`/`_PORT` and `RAHAT_<SERVICE>_HTTP_HOST`/`_PORT`.
    init(from source: inout ConfigurationSource, of service: ServiceRole) {
        let prefix = service.settingPrefix
        self.grpcHost = source.string("\(prefix)_GRPC_HOST", default: "127.0.0.1")
        self.grpcPort = source.int("\(prefix)_GRPC_PORT", default: service.defaultGRPCPort, in: 0...65_535)
        self.opsHost = source.string("\(prefix)_HTTP_HOST", default: "127.0.0.1")
        self.opsPort = source.int("\(prefix)_HTTP_PORT", default: service.defaultGRPCPort + 1, in: 0...65_535)
    }
}

/// The settings of a process that runs one service: where it listens, and what every process shares.
package protocol ServiceProcessConfiguration: Sendable {
    var common: CommonConfiguration { get }
    var listen: ServiceListenConfiguration { get }
}

/// `rahat serve auth`.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_AUTH_GRPC_HOST` / `_PORT` | `127.0.0.1` / `7101` | gRPC listener |
/// | `RAHAT_AUTH_HTTP_HOST` / `_PORT` | `127.0.0.1` / `7102` | `/health`, `/readiness`, `/metrics` |
/// | `RAHAT_MIGRATE_ON_START` | `false` | apply migrations at start instead of by `rahat migrate` |
package struct AuthProcessConfiguration: ServiceProcessConfiguration, Equatable {
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
            listen: ServiceListenConfiguration(from: &source, of: .auth),
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
package struct CoreProcessConfiguration: ServiceProcessConfiguration, Equatable {
    package var common: CommonConfiguration
    package var core: CoreServiceConfiguration
    /// Where vendors are told of changes to their payout accounts.
    package var sms: SmsConfiguration
    package var listen: ServiceListenConfiguration
    package var auth: ServiceAddress
    package var migrateOnStart: Bool

    package static func load(from source: ConfigurationSource) throws -> CoreProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let core = CoreServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let configuration = CoreProcessConfiguration(
            common: common,
            core: core,
            sms: SmsConfiguration(from: &source, dataDirectory: common.dataDirectory),
            listen: ServiceListenConfiguration(from: &source, of: .core),
            auth: ServiceAddress(from: &source, of: .auth),
            migrateOnStart: source.bool("RAHAT_MIGRATE_ON_START", default: false)
        )
        requirePostgres(core.database, for: "core", in: &source)
        SmsConfiguration.requireSender(in: &source, process: "rahat serve core")
        requirePIIKeys(core, process: "core", in: &source)
        try source.validate()
        return configuration
    }
}

/// `rahat serve ledger`: the ledger service alone.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_LEDGER_GRPC_HOST` / `_PORT` | `127.0.0.1` / `7121` | gRPC listener |
/// | `RAHAT_LEDGER_HTTP_HOST` / `_PORT` | `127.0.0.1` / `7122` | `/health`, `/readiness`, `/metrics` |
/// | `RAHAT_AUTH_ADDRESS` | `127.0.0.1:7101` | the auth service, for its public keys |
package struct LedgerProcessConfiguration: ServiceProcessConfiguration, Equatable {
    package var common: CommonConfiguration
    package var ledger: LedgerServiceConfiguration
    package var listen: ServiceListenConfiguration
    package var auth: ServiceAddress
    package var migrateOnStart: Bool

    package static func load(from source: ConfigurationSource) throws -> LedgerProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let ledger = LedgerServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let configuration = LedgerProcessConfiguration(
            common: common,
            ledger: ledger,
            listen: ServiceListenConfiguration(from: &source, of: .ledger),
            auth: ServiceAddress(from: &source, of: .auth),
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
/// | `RAHAT_C2C_GRPC_HOST` / `_PORT` | `127.0.0.1` / `7131` | gRPC listener |
/// | `RAHAT_C2C_HTTP_HOST` / `_PORT` | `127.0.0.1` / `7132` | `/health`, `/readiness`, `/metrics` |
/// | `RAHAT_AUTH_ADDRESS` | `127.0.0.1:7101` | the auth service's gRPC `host:port` |
/// | `RAHAT_CORE_ADDRESS` | `127.0.0.1:7111` | the core service's gRPC `host:port` |
/// | `RAHAT_LEDGER_ADDRESS` | `127.0.0.1:7121` | the ledger service's gRPC `host:port` |
package struct C2CProcessConfiguration: ServiceProcessConfiguration, Equatable {
    package var common: CommonConfiguration
    package var c2c: C2CServiceConfiguration
    package var listen: ServiceListenConfiguration
    package var auth: ServiceAddress
    package var core: ServiceAddress
    package var ledger: ServiceAddress
    package var migrateOnStart: Bool

    package static func load(from source: ConfigurationSource) throws -> C2CProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let c2c = C2CServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let configuration = C2CProcessConfiguration(
            common: common,
            c2c: c2c,
            listen: ServiceListenConfiguration(from: &source, of: .c2c),
            auth: ServiceAddress(from: &source, of: .auth),
            core: ServiceAddress(from: &source, of: .core),
            ledger: ServiceAddress(from: &source, of: .ledger),
            migrateOnStart: source.bool("RAHAT_MIGRATE_ON_START", default: false)
        )
        requirePostgres(c2c.database, for: "c2c", in: &source)
        SmsConfiguration.requireSender(in: &source, process: "rahat serve c2c")
        requireServiceSecret(
            c2c, process: "c2c", because: "the same as the auth service's", in: &source)
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
    package var console = ConsoleConfiguration()
    /// Where the operations listener (`/health`, `/readiness`, `/metrics`) is bound.
    package var opsHost: String
    package var opsPort: Int
    package var auth: ServiceAddress
    package var core: ServiceAddress
    package var ledger: ServiceAddress
    package var c2c: ServiceAddress

    package static func load(from source: ConfigurationSource) throws -> GatewayProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        // Metrics name routes, clients and counts: the public edge of a deployment keeps them
        // on the operations port, which only the cluster reaches.
        var configuration = GatewayProcessConfiguration(
            common: common,
            gateway: GatewayConfiguration(from: &source, publicMetrics: false),
            opsHost: source.string("RAHAT_GATEWAY_OPS_HOST", default: "127.0.0.1"),
            opsPort: source.int("RAHAT_GATEWAY_OPS_PORT", default: 8081, in: 0...65_535),
            auth: ServiceAddress(from: &source, of: .auth),
            core: ServiceAddress(from: &source, of: .core),
            ledger: ServiceAddress(from: &source, of: .ledger),
            c2c: ServiceAddress(from: &source, of: .c2c)
        )
        configuration.console = ConsoleConfiguration(from: &source)
        try source.validate()
        return configuration
    }
}

/// `rahat serve worker`: runs the job handlers of every service, with those services' database
/// settings (the handlers work on their data), the job queue on Redis, and an operations port.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_AUTH_ADDRESS`, `RAHAT_CORE_ADDRESS`, `RAHAT_LEDGER_ADDRESS` | the services' default ports on `127.0.0.1` | where the jobs reach the other services |
/// | `RAHAT_WORKER_CONCURRENCY` | `4` | jobs run at once per queue in this process |
/// | `RAHAT_WORKER_HTTP_HOST` / `_PORT` | `127.0.0.1` / `7192` | `/health`, `/readiness`, `/metrics` |
package struct WorkerProcessConfiguration: Sendable, Equatable {
    package var common: CommonConfiguration
    package var core: CoreServiceConfiguration
    package var c2c: C2CServiceConfiguration
    /// Where the jobs reach the other services: auth for keys and accounts, and, for project-c2c's
    /// jobs, core and the ledger.
    package var peers: Peers
    /// Jobs run at once per queue in this process (`RAHAT_WORKER_CONCURRENCY`).
    package var concurrency: Int
    package var opsHost: String
    package var opsPort: Int

    package static func load(from source: ConfigurationSource) throws -> WorkerProcessConfiguration {
        var source = source
        let common = CommonConfiguration(from: &source)
        let core = CoreServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let c2c = C2CServiceConfiguration(from: &source, dataDirectory: common.dataDirectory)
        let configuration = WorkerProcessConfiguration(
            common: common,
            core: core,
            c2c: c2c,
            peers: Peers(
                auth: ServiceAddress(from: &source, of: .auth), core: ServiceAddress(from: &source, of: .core),
                ledger: ServiceAddress(from: &source, of: .ledger)),
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
        requirePIIKeys(core, process: "worker", in: &source)
        requireServiceSecret(
            c2c, process: "worker", because: "disbursement jobs call the ledger as project-c2c", in: &source)
        try source.validate()
        return configuration
    }

    /// The services the worker's jobs call.
    package struct Peers: Sendable, Equatable {
        package var auth: ServiceAddress
        package var core: ServiceAddress
        package var ledger: ServiceAddress
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

/// Core keeps beneficiaries' personal data sealed: a process running it needs the keys.
private func requirePIIKeys(
    _ core: CoreServiceConfiguration, process: String, in source: inout ConfigurationSource
) {
    if core.pii == nil {
        source.report("RAHAT_PII_KEYS and RAHAT_PII_INDEX_KEY: required by 'rahat serve \(process)'")
    }
}

/// project-c2c calls the other services as itself: a process running it needs the service secret.
private func requireServiceSecret(
    _ c2c: C2CServiceConfiguration, process: String, because reason: String, in source: inout ConfigurationSource
) {
    if c2c.serviceSecret == nil && source.raw("RAHAT_SERVICE_SECRET_FILE") == nil
        && source.raw("RAHAT_SERVICE_SECRET", isSecret: true) == nil
    {
        source.report("RAHAT_SERVICE_SECRET: required by 'rahat serve \(process)' (\(reason))")
    }
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
