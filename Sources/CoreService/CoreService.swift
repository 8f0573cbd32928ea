public import Foundation
public import GRPCCore
public import Logging
public import Persistence
public import ServerKit
public import ServiceLifecycle

/// Settings of the core service.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `DATABASE_URL` | `<data dir>/core.sqlite` | PostgreSQL URL; the service uses schema `core` |
/// | `RAHAT_PII_KEYS` / `_FILE` | generated into `<data dir>/pii-keys.json` (embedded only) | `kid:base64key,…`: AES-256 keys for personal data; the first seals |
/// | `RAHAT_PII_INDEX_KEY` / `_FILE` | generated with the keys | base64 HMAC key for blind indexes |
public struct CoreServiceConfiguration: Sendable, Equatable {
    public var database: ServiceDatabaseConfiguration
    /// `nil` until configured; the embedded default then keeps generated keys in its data directory.
    public var pii: PIIKeys?

    public init(database: ServiceDatabaseConfiguration, pii: PIIKeys? = nil) {
        self.database = database
        self.pii = pii
    }

    public init(from source: inout ConfigurationSource, dataDirectory: String) {
        self.init(database: ServiceDatabaseConfiguration(from: &source, service: "core", dataDirectory: dataDirectory))
        let keys = source.secret("RAHAT_PII_KEYS")
        let indexKey = source.secret("RAHAT_PII_INDEX_KEY")
        switch (keys, indexKey) {
        case (nil, nil):
            break
        case (let keys?, let indexKey?):
            switch PIIKeys.parse(keys: keys, indexKey: indexKey) {
            case .success(let parsed): pii = parsed
            case .failure(let error): source.report(error.description)
            }
        default:
            source.report("RAHAT_PII_KEYS and RAHAT_PII_INDEX_KEY: set both or neither")
        }
    }
}

/// Where the embedded default keeps the PII keys it generated on first start.
public enum PIIKeyFile {
    /// Reads `<directory>/pii-keys.json`, creating it (owner-only) with fresh keys if absent.
    public static func loadOrCreate(in directory: String) throws -> PIIKeys {
        let url = URL(fileURLWithPath: directory).appendingPathComponent("pii-keys.json")
        if let data = try? Data(contentsOf: url) {
            let stored = try JSONDecoder().decode([String: String].self, from: data)
            guard let keys = stored["keys"], let index = stored["indexKey"] else { throw PIIKeyError.noKeys }
            return try PIIKeys.parse(keys: keys, indexKey: index).get()
        }
        let generated = PIIKeys.generate()
        let serialized = generated.serialized
        let data = try JSONEncoder().encode(["keys": serialized.keys, "indexKey": serialized.indexKey])
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: url.path, contents: data, attributes: [.posixPermissions: 0o600])
        else {
            throw CocoaError(.fileWriteUnknown)
        }
        return generated
    }
}

/// The core service (rahat-core), assembled: its gRPC services over its own database.
public struct CoreService: Sendable {
    let domain: CoreDomain

    /// Assembles the service. `verifier` checks callers' access tokens with the auth service's
    /// published keys and `accounts` reaches its users; the composition root decides the transport.
    package init(
        configuration: CoreServiceConfiguration,
        database: ServiceDatabase,
        verifier: AccessTokenVerifier,
        accounts: AuthAccounts,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        guard let keys = configuration.pii else {
            throw ConfigurationError(problems: ["RAHAT_PII_KEYS and RAHAT_PII_INDEX_KEY: required by the core service"])
        }
        domain = CoreDomain(
            database: database, verifier: verifier, vault: PIIVault(keys: keys), accounts: accounts, logger: logger,
            now: now)
    }

    /// The schema this service owns on PostgreSQL.
    public static let schema = "core"

    /// The gRPC services to register on a server.
    public var rpcServices: [any RegistrableRPCService] {
        [
            ProjectRPC(domain: domain), BeneficiaryRPC(domain: domain), GroupRPC(domain: domain),
            VendorRPC(domain: domain), ImportRPC(domain: domain),
        ]
    }

    /// Fully-qualified gRPC service names, for the health service.
    public static let rpcServiceNames = [
        "rahat.core.v1.ProjectService", "rahat.core.v1.BeneficiaryService", "rahat.core.v1.GroupService",
        "rahat.core.v1.VendorService", "rahat.core.v1.ImportService",
    ]

    /// Applies pending migrations.
    public func migrate() async throws {
        try await domain.database.migrate(CoreMigrations.all)
    }

    /// What runs beside the gRPC server in the service's process: the import runner.
    public var backgroundServices: [any Service] { [ImportRunner(domain: domain)] }

    /// What must be up for this service to take traffic.
    public var readinessChecks: [ReadinessCheck] {
        let database = domain.database
        return [ReadinessCheck(name: "core-database") { try await database.ping() }]
    }
}
