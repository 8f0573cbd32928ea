package import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
package import Logging
import MetricCatalog
import Metrics
import NIOCore
import NIOPosix
import OTelSemanticConventions
import PostgresKit
package import SQLKit
package import ServerKit
import ServiceLifecycle
import Tracing

/// The database one service owns: a connection pool scoped to the service's schema on PostgreSQL
/// (via `search_path`, so no table name ever mentions another service), or its own SQLite file.
///
/// It is a lifecycle `Service`: it stays open until graceful shutdown and then closes its pools.
package final class ServiceDatabase: Service, Sendable {
    /// The schema (PostgreSQL) the service's tables live in, e.g. `auth`.
    package let schema: String
    package let location: DatabaseLocation
    private let databases: Databases
    private let logger: Logger
    /// Signalled after each transaction committed through ``transaction(_:)``: the outbox relay
    /// waits on it, so events and job requests leave right after their commit, not at a poll.
    package let commits = WakeSignal()

    package init(configuration: ServiceDatabaseConfiguration, schema: String, logger: Logger) throws {
        self.schema = schema
        self.location = configuration.location
        // SQL is logged with its bound values, which include password hashes and key material:
        // never below `info`, whatever the process log level.
        var databaseLogger = logger
        databaseLogger.logLevel = max(logger.logLevel, .info)
        self.logger = databaseLogger
        databases = Databases(threadPool: DatabaseThreads.pool, on: MultiThreadedEventLoopGroup.singleton)
        switch configuration.location {
        case .sqlite(let path):
            // Personal data and signing keys live in these files: owner-only, and SQLite gives
            // its -wal and -shm files the database file's mode.
            try OwnerOnly.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
            try OwnerOnly.prepareFile(atPath: path)
            // One connection per event loop, so a request may queue behind an import batch's
            // transaction on the same connection: that is ordinary waiting for a local file, not a
            // fault, and it must not time out the way a lost network connection would.
            databases.use(
                .sqlite(
                    .file(path), maxConnectionsPerEventLoop: 1, connectionPoolTimeout: .seconds(60), sqlLogLevel: .trace
                ),
                as: .sqlite
            )
        case .postgres(let url):
            var postgres = try SQLPostgresConfiguration(url: url)
            postgres.searchPath = [schema]
            databases.use(
                .postgres(
                    configuration: postgres,
                    maxConnectionsPerEventLoop: configuration.maxConnectionsPerEventLoop,
                    connectionPoolTimeout: .seconds(10),
                    encodingContext: .default,
                    decodingContext: .default,
                    sqlLogLevel: .trace
                ),
                as: .psql
            )
        }
    }

    /// A handle for queries; cheap, make one per unit of work.
    package var db: any Database {
        guard let database = databases.database(logger: logger, on: databases.eventLoopGroup.any()) else {
            preconditionFailure("ServiceDatabase registers its one configuration in init")
        }
        return database
    }

    /// The same handle as SQLKit, for set-based statements.
    package var sql: any SQLDatabase {
        guard let sql = db as? any SQLDatabase else {
            preconditionFailure("both registered drivers are SQL databases")
        }
        return sql
    }

    /// Runs `body` in one transaction and returns its result.
    ///
    /// On SQLite a transaction starts as a reader; if another connection (the outbox relay, a
    /// second request) commits between its first read and its first write, SQLite refuses the write
    /// at once with `SQLITE_BUSY` rather than waiting, because the transaction's view is stale.
    /// Nothing of it was committed, so it is safe to run the whole body again on a fresh view, and
    /// that is what a caller would otherwise have to do by hand. PostgreSQL waits for row locks
    /// itself and needs no retry.
    package func transaction<T: Sendable>(
        _ body: @escaping @Sendable (any Database) async throws -> T
    ) async throws -> T {
        // FluentKit runs the body in a task it starts from an event loop, where the caller's
        // task-locals are gone: carry the span (outbox rows record it, log lines name it) and
        // the call being handled across.
        try await observed {
            let context = ServiceContext.current
            let call = IncomingCall.current
            return try await self.retryingStaleSnapshots { database in
                try await IncomingCall.$current.withValue(call) {
                    try await ServiceContext.$current.withValue(context) { try await body(database) }
                }
            }
        }
    }

    /// A span for the transaction, saying which database and how long (FluentKit adds its own
    /// span per statement under it), and its duration by outcome.
    private func observed<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        let span = InstrumentationSystem.tracer.startSpan("db transaction", ofKind: .client)
        span.attributes[OTelAttribute.db.system.name] = isPostgres ? "postgresql" : "sqlite"
        span.attributes[OTelAttribute.db.namespace] = schema
        let started = ContinuousClock.now
        defer { span.end() }
        do {
            let result = try await ServiceContext.$current.withValue(span.context) { try await work() }
            PersistenceMetrics.transactionDuration.timer(schema, "commit").record(duration: .now - started)
            return result
        } catch {
            PersistenceMetrics.transactionDuration.timer(schema, "rollback").record(duration: .now - started)
            if DatabaseAvailability.isUnavailable(error) {
                PersistenceMetrics.unavailable.counter(schema).increment()
                span.setStatus(SpanStatus(code: .error))
            }
            span.recordError(error)
            throw error
        }
    }

    private func retryingStaleSnapshots<T: Sendable>(
        _ body: @escaping @Sendable (any Database) async throws -> T
    ) async throws -> T {
        guard case .sqlite = location else {
            let result = try await db.transaction(body)
            commits.signal()
            return result
        }
        var attempt = 1
        while true {
            do {
                let result = try await db.transaction(body)
                commits.signal()
                return result
            } catch let error as SQLiteError where error.reason == .busy || error.reason == .busyInSnapshot {
                guard attempt < Self.staleSnapshotAttempts else { throw error }
                logger.debug(
                    "SQLite transaction saw a stale snapshot; running it again", metadata: ["attempt": "\(attempt)"])
                attempt += 1
                try await Task.sleep(for: .milliseconds(attempt * attempt))
            }
        }
    }

    /// ``transaction(_:)`` with the transaction as the SQL database stores write their statements on.
    package func sqlTransaction<T: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase & Database) async throws -> T
    ) async throws -> T {
        try await transaction { tx in
            guard let sql = tx as? any SQLDatabase & Database else {
                preconditionFailure("both registered drivers are SQL databases")
            }
            return try await body(sql)
        }
    }

    /// Enough for any burst of competing commits in one process; past it the error is real.
    private static let staleSnapshotAttempts = 20

    package var isPostgres: Bool {
        if case .postgres = location { return true }
        return false
    }

    /// Prepares the connection for first use: the schema on PostgreSQL, WAL journaling on SQLite
    /// (readers never block the writer, and commits survive a crash).
    package func prepare() async throws {
        switch location {
        case .postgres:
            // `CREATE SCHEMA IF NOT EXISTS` needs the right to create schemas even when the schema
            // is there, and a service's own role (`rahat database roles`) has only its schema.
            let existing = try await sql.raw("SELECT 1 AS found FROM pg_namespace WHERE nspname = \(bind: schema)")
                .first()
            if existing == nil {
                try await sql.raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run()
            }
        case .sqlite:
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
    }

    /// Applies every migration not yet applied, in order.
    package func migrate(_ migrations: [any Migration]) async throws {
        try await prepare()
        let migrator = migrator(migrations)
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }

    /// Reverts the most recent batch of migrations.
    package func revertLastBatch(_ migrations: [any Migration]) async throws {
        try await prepare()
        let migrator = migrator(migrations)
        try await migrator.setupIfNeeded().get()
        try await migrator.revertLastBatch().get()
    }

    /// Names of migrations that are known but not yet applied.
    package func pendingMigrations(_ migrations: [any Migration]) async throws -> [String] {
        try await prepare()
        let migrator = migrator(migrations)
        try await migrator.setupIfNeeded().get()
        return try await migrator.previewPrepareBatch().get().map { $0.0.name }
    }

    private func migrator(_ list: [any Migration]) -> Migrator {
        let registry = Migrations()
        registry.add(list)
        return Migrator(
            databases: databases,
            migrations: registry,
            logger: logger,
            on: databases.eventLoopGroup.any()
        )
    }

    /// Throws unless a trivial query round-trips: the readiness probe.
    package func ping() async throws {
        try await sql.raw("SELECT 1").run()
    }

    package func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes every pooled connection. Safe to call once the service is no longer used.
    package func shutdown() async {
        await databases.shutdownAsync()
    }
}

/// Threads for blocking database work (SQLite runs every statement, fsync included, on them),
/// apart from `NIOThreadPool.singleton`'s one thread per core that CPU-bound work such as password
/// hashing uses: a commit waiting on the disk never holds up a login, nor a login a commit.
enum DatabaseThreads {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()
}
