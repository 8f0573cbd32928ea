package import Foundation
package import GRPCCore
package import Logging
package import Messaging
package import Notifications
package import Persistence
package import ServerKit
package import TokenVerification

/// Settings of the project-c2c service.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `DATABASE_URL` | `<data dir>/c2c.sqlite` | PostgreSQL URL; the service uses schema `c2c` |
/// | `RAHAT_SERVICE_SECRET` / `_FILE` | generated into `<data dir>/service-secret` (embedded only) | what it presents to the auth service for its own token |
/// | `RAHAT_DISBURSEMENT_BATCH_SIZE` | `1000` | lines one execution job pays in one ledger batch (100–10,000) |
/// | `RAHAT_SMS_*` | `<data dir>/sms.jsonl` | where redemption codes go (see `SmsConfiguration`) |
/// | `RAHAT_PHONE_CHANGE_HOLD_HOURS` | `72` | after a beneficiary's phone changes, how long redemption waits (0–720) |
/// | `RAHAT_PAYOUT_DEBTOR_*` | `Rahat`, `NOTPROVIDED` | the agency's account in payout files (see `PayoutDebtor`) |
package struct C2CServiceConfiguration: Sendable, Equatable {
    package var database: ServiceDatabaseConfiguration
    /// `nil` until configured; the embedded default then uses the secret in its data directory.
    package var serviceSecret: String?
    /// Lines per execution job, each job one ledger batch.
    package var disbursementBatchSize: Int
    /// Where redemption codes go.
    package var sms: SmsConfiguration
    /// The agency's account that pays vendors.
    package var payoutDebtor: PayoutDebtor
    /// How long after a beneficiary's phone changes redemption waits: long enough for the old
    /// number's owner, who is told, to object.
    package var phoneChangeHold: Duration

    package init(
        database: ServiceDatabaseConfiguration, serviceSecret: String? = nil, disbursementBatchSize: Int = 1_000,
        sms: SmsConfiguration, payoutDebtor: PayoutDebtor = PayoutDebtor(),
        phoneChangeHold: Duration = C2CService.defaultPhoneChangeHold
    ) {
        self.database = database
        self.serviceSecret = serviceSecret
        self.disbursementBatchSize = disbursementBatchSize
        self.sms = sms
        self.payoutDebtor = payoutDebtor
        self.phoneChangeHold = phoneChangeHold
    }

    /// Reads every setting but the service secret when `serviceSecret` gives it (one process,
    /// one secret, read once).
    package init(from source: inout ConfigurationSource, dataDirectory: String, serviceSecret: String?? = nil) {
        self.init(
            database: ServiceDatabaseConfiguration(from: &source, service: "c2c", dataDirectory: dataDirectory),
            serviceSecret: serviceSecret ?? ServiceSecret.read(from: &source),
            disbursementBatchSize: source.int("RAHAT_DISBURSEMENT_BATCH_SIZE", default: 1_000, in: 100...10_000),
            sms: SmsConfiguration(from: &source, dataDirectory: dataDirectory),
            payoutDebtor: PayoutDebtor(from: &source),
            phoneChangeHold: .seconds(
                3_600 * source.int("RAHAT_PHONE_CHANGE_HOLD_HOURS", default: 72, in: 0...720)))
    }
}

/// project-c2c, assembled: its gRPC services over its own database. Moves value only through the
/// ledger service, as itself (service credentials), after checking its caller's rights.
package struct C2CService: Sendable {
    let domain: C2CDomain

    /// Assembles the service. `verifier` checks callers' access tokens; `clients` reach the auth,
    /// core and ledger services; redemption codes go through `sms`. Does not migrate: call
    /// ``migrate()`` or run `rahat migrate` first.
    package init(
        configuration: C2CServiceConfiguration,
        database: ServiceDatabase,
        verifier: AccessTokenVerifier,
        clients: C2CClients,
        sms: any SmsSender,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        domain = C2CDomain(
            database: database, verifier: verifier, clients: clients, batchSize: configuration.disbursementBatchSize,
            sms: sms, payoutDebtor: configuration.payoutDebtor, phoneChangeHold: configuration.phoneChangeHold,
            logger: logger, now: now)
    }

    /// Three days: a weekend's time for the owner of a number that was changed away to object.
    package static let defaultPhoneChangeHold = Duration.seconds(72 * 3_600)

    /// The schema this service owns on PostgreSQL.
    package static let schema = "c2c"

    /// The gRPC services to register on a server.
    package var rpcServices: [any RegistrableRPCService] {
        [
            ProjectFundsRPC(domain: domain), DisbursementRPC(domain: domain), RedemptionRPC(domain: domain),
            SettlementRPC(domain: domain),
        ]
    }

    /// Fully-qualified gRPC service names, for the health service.
    package static let rpcServiceNames = [
        "rahat.c2c.v1.ProjectFundsService", "rahat.c2c.v1.DisbursementService", "rahat.c2c.v1.RedemptionService",
        "rahat.c2c.v1.SettlementService",
    ]

    /// The jobs this service's work queues, for the worker that runs them.
    package var jobHandlers: [JobHandler] {
        [
            domain.disbursementJob, domain.settlementJob, domain.settlementTickJob, domain.scheduledSettlementJob,
        ]
    }

    /// Applies pending migrations.
    package func migrate() async throws {
        try await domain.database.migrate(C2CMigrations.all)
    }

    /// What must be up for this service to take traffic.
    package var readinessChecks: [ReadinessCheck] {
        let database = domain.database
        return [ReadinessCheck(name: "c2c-database") { try await database.ping() }]
    }
}
