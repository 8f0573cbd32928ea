import ArgumentParser
import AuthService
import Foundation
import Gateway
import LedgerService
import Logging
import Messaging
import MetricCatalog
import Operations
import Persistence
import RahatApp
import ServerKit
import ServiceLifecycle
import UnixSignals

@main
struct Rahat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rahat",
        abstract: "Rahat: aid projects, beneficiaries, disbursements, vendors and settlements.",
        discussion: "Configuration comes from the environment (see the README's table) and RAHAT_CONFIG_FILE.",
        // The release as the image or package names it (the image sets RAHAT_VERSION from its
        // build), the same name rahat_build_info and the traces carry.
        version: ProcessInfo.processInfo.environment["RAHAT_VERSION"].flatMap { $0.isEmpty ? nil : $0 } ?? "dev",
        subcommands: [
            Serve.self, Migrate.self, DatabaseCommand.self, AuthCommand.self, LedgerCommand.self, EventsCommand.self,
            MetricsCommand.self, InternalGatewayCommand.self, PublicGatewayCommand.self,
        ]
    )
}

/// The processes `rahat serve` can run.
enum ProcessKind: String, ExpressibleByArgument, CaseIterable {
    case gateway, auth, core, ledger, c2c, worker
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the platform (everything in one process), or one process of the distributed deployment."
    )

    @Argument(
        help:
            "Run only this process: gateway, auth, core, ledger, c2c or worker. Omit to run everything in one process.")
    var process: ProcessKind?

    func run() async throws {
        let source = try await loadSource()
        switch process {
        case nil:
            let configuration = try EmbeddedConfiguration.load(from: source)
            let (logger, tracing) = try observability(service: "rahat", common: configuration.common)
            let host = configuration.gateway.host
            let email = configuration.auth.adminEmail
            let process = try await Platform.embedded(configuration: configuration, logger: logger) { port in
                Console.announceGateway(host: host, port: port, adminEmail: email)
            }
            Console.announceAdmin(process.notice)
            try await runServices(tracing + process.services, common: configuration.common, logger: logger)
        case .gateway:
            let configuration = try GatewayProcessConfiguration.load(from: source)
            let (logger, tracing) = try observability(service: "gateway", common: configuration.common)
            let host = configuration.gateway.host
            let opsHost = configuration.opsHost
            let process = try Platform.gatewayProcess(
                configuration: configuration, logger: logger,
                onGatewayRunning: { port in Console.announceGateway(host: host, port: port, adminEmail: nil) },
                onOpsRunning: { port in Console.line("gateway health and metrics on http://\(opsHost):\(port)") })
            try await runServices(tracing + process.services, common: configuration.common, logger: logger)
        case .auth:
            try await serveService(.auth, AuthProcessConfiguration.load(from: source)) {
                configuration, logger, onGRPC, onOps in
                let (services, notice) = try await Platform.authProcess(
                    configuration: configuration, logger: logger, onGRPCRunning: onGRPC, onOpsRunning: onOps)
                Console.announceAdmin(notice)
                return services
            }
        case .core:
            try await serveService(.core, CoreProcessConfiguration.load(from: source), start: Platform.coreProcess)
        case .ledger:
            try await serveService(
                .ledger, LedgerProcessConfiguration.load(from: source), start: Platform.ledgerProcess)
        case .c2c:
            try await serveService(.c2c, C2CProcessConfiguration.load(from: source), start: Platform.c2cProcess)
        case .worker:
            let configuration = try WorkerProcessConfiguration.load(from: source)
            let (logger, tracing) = try observability(service: "worker", common: configuration.common)
            let host = configuration.opsHost
            let services = try await Platform.workerProcess(
                configuration: configuration,
                logger: logger,
                onOpsRunning: { port in Console.line("worker health and metrics on http://\(host):\(port)") }
            )
            try await runServices(tracing + services, common: configuration.common, logger: logger)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations of every service (run before a rollout)."
    )

    @Flag(help: "Revert each service's most recent batch of migrations instead.")
    var revert = false

    func run() async throws {
        let configuration = try MigrateConfiguration.load(from: try await loadSource())
        let logger = RahatLogging.bootstrap(service: "migrate", configuration: configuration.common.log)
        let applied = try await Platform.migrate(configuration: configuration, revert: revert, logger: logger)
        if revert {
            Console.line("reverted the last batch of migrations")
        } else if applied.isEmpty {
            Console.line("no pending migrations")
        } else {
            for name in applied { Console.line("applied \(name)") }
        }
    }
}

struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Operator actions on the auth service.",
        subcommands: [RotateSigningKey.self]
    )

    struct RotateSigningKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-signing-key",
            abstract: "Start signing access tokens with a new key; old keys keep verifying until their tokens expire."
        )

        func run() async throws {
            let configuration = try MigrateConfiguration.load(from: try await loadSource())
            let logger = RahatLogging.bootstrap(service: "auth", configuration: configuration.common.log)
            let kid = try await Platform.rotateSigningKey(configuration: configuration, logger: logger)
            Console.line("new signing key \(kid); running services pick it up within a minute")
        }
    }
}

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "database",
        abstract: "Operator actions on the PostgreSQL database.",
        subcommands: [Roles.self]
    )

    struct Roles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the SQL that gives each service its own role, owning only its own schema.",
            discussion: """
                Run the output once with psql as the database's owner, set each role's password, and give \
                each process its service's URL (RAHAT_AUTH_DATABASE_URL, RAHAT_CORE_DATABASE_URL, \
                RAHAT_LEDGER_DATABASE_URL, RAHAT_C2C_DATABASE_URL). Safe to run again.
                """
        )

        @Option(help: "The database the services use.")
        var database: String

        @Option(help: "What the role names start with.")
        var prefix = "rahat_"

        func run() async throws {
            Console.line(String(DatabaseRoles.script(database: database, prefix: prefix).dropLast()))
        }
    }
}

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "List every metric a Rahat process may serve at /metrics, with its type, labels and meaning."
    )

    @Flag(help: "Print only the names, one per line (what the shipped dashboards and rules may use).")
    var names = false

    func run() async throws {
        for definition in Platform.metricCatalog {
            guard !names else {
                Console.line(definition.name)
                continue
            }
            let kind =
                switch definition.kind {
                case .counter: "counter"
                case .gauge: "gauge"
                case .durationHistogram(_): "histogram"
                }
            let labels = definition.labels.isEmpty ? "" : "{\(definition.labels.joined(separator: ","))}"
            Console.line("\(definition.name)\(labels) \(kind): \(definition.help)")
        }
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Operator actions on the ledger.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the transfers' hash chain and name the first row that does not match.",
            discussion: "Exits with status 1 when the chain is broken."
        )

        func run() async throws {
            let configuration = try MigrateConfiguration.load(from: try await loadSource())
            let logger = RahatLogging.bootstrap(service: "ledger", configuration: configuration.common.log)
            let result = try await Platform.verifyLedger(configuration: configuration, logger: logger)
            guard let broken = result.firstBreak else {
                Console.line("ledger intact: \(result.checked) transfers, head \(result.headHash)")
                return
            }
            let row = broken.transferID.map { " (transfer \($0.uuidString.lowercased()))" } ?? ""
            Console.line(
                "ledger BROKEN at sequence \(broken.sequence)\(row): \(broken.reason); \(result.checked) transfers before it match"
            )
            throw ExitCode(1)
        }
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Events a subscribing service gave up on, or a publishing one could not send: list and resend them.",
        subcommands: [DeadLetters.self, Replay.self, Unpublishable.self]
    )

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters",
            abstract: "List a subscribing service's dead letters, oldest first (Redis with REDIS_URL, else embedded)."
        )

        @Option(help: "The subscribing service (its consumer group), e.g. core.")
        var group: String

        @Option(help: "At most this many.")
        var limit = 100

        func run() async throws {
            let configuration = try MigrateConfiguration.load(from: try await loadSource())
            let logger = RahatLogging.bootstrap(service: "events", configuration: configuration.common.log)
            let letters = try await Platform.deadLetters(
                configuration: configuration, group: group, limit: limit, logger: logger)
            if letters.isEmpty { Console.line("no dead letters for \(group)") }
            for letter in letters {
                Console.line(
                    "\(letter.entryID)  \(letter.type)  event \(letter.eventID)  \(letter.attempts) attempts  "
                        + "failed \(letter.failedAt.formatted(.iso8601)): \(letter.error)")
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters back to their subscribing service for a fresh set of attempts."
        )

        @Option(help: "The subscribing service (its consumer group), e.g. core.")
        var group: String

        @Argument(help: "Dead-letter ids, as 'events dead-letters' lists them.")
        var ids: [String]

        func run() async throws {
            let configuration = try MigrateConfiguration.load(from: try await loadSource())
            let logger = RahatLogging.bootstrap(service: "events", configuration: configuration.common.log)
            var missing: [String] = []
            for id in ids {
                if try await Platform.replayDeadLetter(
                    configuration: configuration, group: group, entryID: id, logger: logger)
                {
                    Console.line("replayed \(id)")
                } else {
                    missing.append(id)
                }
            }
            if !missing.isEmpty {
                Console.line("no dead letter \(missing.joined(separator: ", ")) for \(group)")
                throw ExitCode.failure
            }
        }
    }
}

extension EventsCommand {
    struct Unpublishable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the events a service's outbox set aside because they can never be published.",
            discussion: "Fix what made them unpublishable (usually: deploy the release that reads them), then --retry."
        )

        @Option(help: "The publishing service: core or c2c.")
        var service: String

        @Option(parsing: .upToNextOption, help: "Put these event ids back in line before listing.")
        var retry: [String] = []

        @Option(help: "At most this many.")
        var limit = 100

        func run() async throws {
            let configuration = try MigrateConfiguration.load(from: try await loadSource())
            let logger = RahatLogging.bootstrap(service: "events", configuration: configuration.common.log)
            let ids = try retry.map { text in
                guard let id = UUID(uuidString: text) else {
                    throw ValidationError("--retry: '\(text)' is not an event id")
                }
                return id
            }
            let (retried, failed) = try await Platform.unpublishableEvents(
                configuration: configuration, service: service, retry: ids, limit: limit, logger: logger)
            if !ids.isEmpty { Console.line("put \(retried) of \(ids.count) back in line") }
            if failed.isEmpty { Console.line("no unpublishable events in \(service)'s outbox") }
            for entry in failed {
                Console.line(
                    "\(entry.event.id.uuidString.lowercased())  \(entry.event.type)  \(entry.event.aggregateID)  "
                        + "set aside \(entry.failedAt.formatted(.iso8601)): \(entry.reason)")
            }
        }
    }
}

func loadSource() async throws -> ConfigurationSource {
    do {
        return try await ConfigurationSource.load()
    } catch let error as ConfigurationError {
        throw ValidationError(error.description)
    }
}

/// Runs one service's process, telling the terminal where it listens.
private func serveService<Configuration: ServiceProcessConfiguration>(
    _ role: ServiceRole,
    _ configuration: Configuration,
    start: (
        Configuration, Logger, (@Sendable (Int) async -> Void)?, (@Sendable (Int) async -> Void)?
    ) async throws -> [any Service]
) async throws {
    let name = role.rawValue
    let (logger, tracing) = try observability(service: name, common: configuration.common)
    let listen = configuration.listen
    let services = try await start(
        configuration, logger,
        { port in Console.line("\(name) gRPC listening on \(listen.grpcHost):\(port)") },
        { port in Console.line("\(name) health and metrics on http://\(listen.opsHost):\(port)") })
    try await runServices(tracing + services, common: configuration.common, logger: logger)
}

/// A serving process's logging, metrics and, when the `OTEL_*` variables ask for it, tracing.
/// The trace exporter comes back as a service to run first, so it stops last and sends the spans
/// recorded while the others stop.
private func observability(
    service: String, common: CommonConfiguration
) throws -> (logger: Logger, tracing: [any Service]) {
    let logger = RahatLogging.bootstrap(service: service, configuration: common.log)
    RahatMetrics.recordBuild(version: common.version, service: service)
    common.internalTLS?.recordExpiry()
    let tracing = try RahatTracing.bootstrap(
        service: service, version: common.version, environment: ProcessInfo.processInfo.environment, logger: logger)
    return (logger, tracing.map { [$0] } ?? [])
}

private func runServices(_ services: [any Service], common: CommonConfiguration, logger: Logger) async throws {
    var configuration = ServiceGroupConfiguration(
        services: services.map { .init(service: $0) },
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
    // A drain that outlives its deadline (a hung client, a stuck call) is cancelled, so an
    // orchestrator's SIGTERM ends the process before it has to send SIGKILL.
    configuration.maximumGracefulShutdownDuration = common.shutdownTimeout
    // A service that then ignores its cancellation would keep the process alive for ever (one
    // `serve core` outlived its SIGTERM by 49 minutes after its database and Redis had gone):
    // ten seconds on, the process stops with an error that names the wait.
    configuration.maximumCancellationDuration = .seconds(10)
    defer { LogWriter.standardOutput.flush() }
    try await ServiceGroup(configuration: configuration).run()
}

/// What the command prints for the person at the terminal (logs go to the log stream).
enum Console {
    static func line(_ text: String) {
        // Unbuffered, so the lines appear at once even when stdout is a pipe or a file.
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func announceGateway(host: String, port: Int, adminEmail: String?) {
        line("Rahat is listening on http://\(host):\(port)")
        line("  API reference: http://\(host):\(port)/docs")
        line("  log in:        curl -s http://\(host):\(port)/v1/auth/login -H 'content-type: application/json' \\")
        line("                   -d '{\"email\":\"\(adminEmail ?? "<email>")\",\"password\":\"<password>\"}'")
    }

    static func announceAdmin(_ notice: StartupNotice) {
        guard let admin = notice.createdAdmin else { return }
        line("Created the first admin: \(admin.email)")
        if let file = notice.passwordFile {
            line("  its generated password is in \(file) (readable by this user only):")
            line("  sign in, change it, then delete the file")
        }
    }
}
