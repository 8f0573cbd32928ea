package import Foundation
package import GRPCCore
package import Logging
package import Messaging
package import Notifications
package import Persistence
package import ServerKit
package import ServiceLifecycle
package import TokenVerification

/// Settings of the core service.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `DATABASE_URL` | `<data dir>/core.sqlite` | PostgreSQL URL; the service uses schema `core` |
/// | `RAHAT_PII_KEYS` / `_FILE` | generated into `<data dir>/pii-keys.json` (embedded only) | `kid:base64key,…`: AES-256 keys for personal data; the first seals |
/// | `RAHAT_PII_INDEX_KEY` / `_FILE` | generated with the keys | base64 HMAC key for blind indexes |
/// | `RAHAT_IMPORT_MAX_BYTES` | 268435456 (256 MiB) | largest import file accepted |
/// | `RAHAT_IMPORT_MAX_UNFINISHED_PER_CALLER` | 3 | imports one user (with their API keys) may have uploading, queued or running |
/// | `RAHAT_IMPORT_MAX_UNFINISHED` | 12 | imports all callers together may have uploading, queued or running |
/// | `RAHAT_IMPORT_BATCH_ROWS` | 2500 | rows an import screens and writes per transaction |
/// | `RAHAT_BENEFICIARY_CACHE_SECONDS` | 300 | how long a beneficiary read stays cached; 0 turns the cache off |
/// | `RAHAT_KYC_*` | see ``KYCRules`` | the verification rules |
package struct CoreServiceConfiguration: Sendable, Equatable {
    package var database: ServiceDatabaseConfiguration
    /// `nil` until configured; the embedded default then keeps generated keys in its data directory.
    package var pii: PIIKeys?
    /// The largest import file accepted; a larger upload is refused while it streams.
    package var importMaxBytes: Int
    /// Imports one user may have unfinished: each holds its whole file in the database until it ends.
    package var importsUnfinishedPerCaller: Int
    /// Imports all callers together may have unfinished, which bounds the files stored at once.
    package var importsUnfinished: Int
    /// Rows an import validates, screens and writes in one transaction (and resumes after).
    package var importBatchRows: Int
    /// How long a cached beneficiary read may be served; changes invalidate it sooner.
    package var beneficiaryCacheTTL: Duration
    /// What the verification job checks.
    package var kyc: KYCRules

    /// 256 MiB holds about two million beneficiary rows.
    package static let defaultImportMaxBytes = 256 * 1_048_576

    package init(
        database: ServiceDatabaseConfiguration,
        pii: PIIKeys? = nil,
        importMaxBytes: Int = defaultImportMaxBytes,
        importsUnfinishedPerCaller: Int = 3,
        importsUnfinished: Int = 12,
        importBatchRows: Int = 2500,
        beneficiaryCacheTTL: Duration = .seconds(300),
        kyc: KYCRules = KYCRules()
    ) {
        self.database = database
        self.pii = pii
        self.importMaxBytes = importMaxBytes
        self.importsUnfinishedPerCaller = importsUnfinishedPerCaller
        self.importsUnfinished = importsUnfinished
        self.importBatchRows = importBatchRows
        self.beneficiaryCacheTTL = beneficiaryCacheTTL
        self.kyc = kyc
    }

    package init(from source: inout ConfigurationSource, dataDirectory: String) {
        self.init(database: ServiceDatabaseConfiguration(from: &source, service: "core", dataDirectory: dataDirectory))
        importMaxBytes = source.int(
            "RAHAT_IMPORT_MAX_BYTES", default: Self.defaultImportMaxBytes, in: 1024...(16 * 1_073_741_824))
        importsUnfinishedPerCaller = source.int("RAHAT_IMPORT_MAX_UNFINISHED_PER_CALLER", default: 3, in: 1...100)
        importsUnfinished = source.int("RAHAT_IMPORT_MAX_UNFINISHED", default: 12, in: 1...1000)
        importBatchRows = source.int("RAHAT_IMPORT_BATCH_ROWS", default: 2500, in: 100...20_000)
        beneficiaryCacheTTL = .seconds(source.int("RAHAT_BENEFICIARY_CACHE_SECONDS", default: 300, in: 0...86_400))
        kyc = KYCRules(from: &source)
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
package enum PIIKeyFile {
    /// Reads `<directory>/pii-keys.json`, creating it (owner-only) with fresh keys if absent. A
    /// file that exists but cannot be read or parsed stops start-up (``SecretFile``): fresh keys
    /// over it would leave every sealed value unreadable.
    package static func loadOrCreate(in directory: String) throws -> PIIKeys {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("pii-keys.json").path
        let data = try SecretFile.loadOrCreate(at: path) {
            let serialized = PIIKeys.generate().serialized
            return try JSONEncoder().encode(["keys": serialized.keys, "indexKey": serialized.indexKey])
        }
        guard let stored = try? JSONDecoder().decode([String: String].self, from: data),
            let keys = stored["keys"], let index = stored["indexKey"]
        else { throw SecretFileError(path: path, problem: "holds no keys Rahat can read") }
        switch PIIKeys.parse(keys: keys, indexKey: index) {
        case .success(let parsed): return parsed
        case .failure(let error): throw SecretFileError(path: path, problem: "holds unusable keys: \(error)")
        }
    }
}

/// The core service (rahat-core), assembled: its gRPC services over its own database.
package struct CoreService: Sendable {
    let domain: CoreDomain

    /// Assembles the service. `verifier` checks callers' access tokens with the auth service's
    /// published keys and `accounts` reaches its users; the composition root decides the transport.
    /// `cache` holds beneficiary reads: Redis, or memory when this is the only process; `nil`
    /// turns caching off.
    package init(
        configuration: CoreServiceConfiguration,
        database: ServiceDatabase,
        verifier: AccessTokenVerifier,
        accounts: AuthAccounts,
        cache: (any CacheStore)? = nil,
        sms: (any SmsSender)? = nil,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        guard let keys = configuration.pii else {
            throw ConfigurationError(problems: ["RAHAT_PII_KEYS and RAHAT_PII_INDEX_KEY: required by the core service"])
        }
        domain = CoreDomain(
            database: database, verifier: verifier, vault: PIIVault(keys: keys), accounts: accounts,
            importMaxBytes: configuration.importMaxBytes,
            importsUnfinished: (
                perCaller: configuration.importsUnfinishedPerCaller, total: configuration.importsUnfinished
            ),
            importBatchRows: configuration.importBatchRows,
            kyc: configuration.kyc,
            beneficiaryCache: BeneficiaryCache(store: cache, ttl: configuration.beneficiaryCacheTTL, logger: logger),
            sms: sms, logger: logger, now: now)
    }

    /// The schema this service owns on PostgreSQL.
    package static let schema = "core"

    /// The gRPC services to register on a server.
    package var rpcServices: [any RegistrableRPCService] {
        [
            ProjectRPC(domain: domain), BeneficiaryRPC(domain: domain), GroupRPC(domain: domain),
            VendorRPC(domain: domain), ImportRPC(domain: domain), VerificationRPC(domain: domain),
        ]
    }

    /// Fully-qualified gRPC service names, for the health service.
    package static let rpcServiceNames = [
        "rahat.core.v1.ProjectService", "rahat.core.v1.BeneficiaryService", "rahat.core.v1.GroupService",
        "rahat.core.v1.VendorService", "rahat.core.v1.ImportService", "rahat.core.v1.VerificationService",
    ]

    /// Applies pending migrations.
    package func migrate() async throws {
        try await domain.database.migrate(CoreMigrations.all)
    }

    /// The jobs of this service that a worker runs (`rahat serve worker`, or the embedded
    /// process): imports and KYC checks.
    package var jobHandlers: [JobHandler] { [domain.importJob, domain.verificationJob] }

    /// What core does with other services' events (subscribed as group ``eventGroup``): counts
    /// what each beneficiary received from project-c2c's disbursements.
    package var eventHandlers: [EventHandler] { domain.eventHandlers }

    /// The consumer group core subscribes under.
    package static let eventGroup = "core"

    /// What runs beside the gRPC server in the service's process: the removal of abandoned
    /// uploads, the folding of the statistics' count deltas and the indexing of names' words.
    package var backgroundServices: [any Service] {
        [AbandonedUploads(domain: domain), StatsFolding(domain: domain), NameWordIndexing(domain: domain)]
    }

    /// Claims the next queued import and runs it, as the import job does; `false` when there is
    /// none. With `crashingAfterBatches`, the run stops dead after that many committed
    /// batches, holding its lease as a killed process would, so tests can show the resume.
    package func runNextImport(crashingAfterBatches: Int? = nil) async throws -> Bool {
        guard let claim = try await domain.claimImport() else { return false }
        try await domain.runImport(claim, crashingAfterBatches: crashingAfterBatches)
        return true
    }

    /// What must be up for this service to take traffic.
    package var readinessChecks: [ReadinessCheck] {
        let database = domain.database
        return [ReadinessCheck(name: "core-database") { try await database.ping() }]
    }
}
