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
import Synchronization
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
    /// How the server knows this process's connections (`rahat-<schema>-<instance>`): one name per
    /// process, so `pg_stat_activity` tells its pool apart from another replica's.
    package let applicationName: String
    private let pool: PoolGauges
    /// The streaming replica reads that tolerate staleness use, when one is configured.
    private let replica: ReadReplica?
    private let replicaReads: Counter
    private let primaryReads: [ReadReplica.Reason: Counter]

    package init(configuration: ServiceDatabaseConfiguration, schema: String, logger: Logger) throws {
        self.schema = schema
        self.location = configuration.location
        // SQL is logged with its bound values, which include password hashes and key material:
        // never below `info`, whatever the process log level.
        var databaseLogger = logger
        databaseLogger.logLevel = max(logger.logLevel, .info)
        self.logger = databaseLogger
        databases = Databases(threadPool: DatabaseThreads.pool, on: MultiThreadedEventLoopGroup.singleton)
        let applicationName = "rahat-\(schema)-\(String(UInt32.random(in: 0x1000_0000 ... .max), radix: 16))"
        self.applicationName = applicationName
        pool = PoolGauges.of(schema)
        replica = configuration.readReplica.map {
            ReadReplica(configuration: $0, schema: schema, logger: databaseLogger)
        }
        replicaReads = PersistenceMetrics.replicaReads.counter(schema, "replica", ReadReplica.Reason.inSync.rawValue)
        primaryReads = Dictionary(
            uniqueKeysWithValues: [ReadReplica.Reason.lagging, .unavailable, .readYourWrites, .failedOver].map {
                ($0, PersistenceMetrics.replicaReads.counter(schema, "primary", $0.rawValue))
            })
        let perLoop: Int
        switch configuration.location {
        case .sqlite(let path):
            // Personal data and signing keys live in these files: owner-only, and SQLite gives
            // its -wal and -shm files the database file's mode.
            try OwnerOnly.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
            try OwnerOnly.prepareFile(atPath: path)
            // One connection per event loop, so a request may queue behind an import batch's
            // transaction on the same connection: that is ordinary waiting for a local file, not a
            // fault, and it must not time out the way a lost network connection would.
            perLoop = 1
            databases.use(
                .sqlite(
                    .file(path), maxConnectionsPerEventLoop: perLoop, connectionPoolTimeout: .seconds(60),
                    sqlLogLevel: .trace
                ),
                as: .sqlite
            )
        case .postgres(let url):
            var postgres = try SQLPostgresConfiguration(url: url)
            postgres.searchPath = [schema]
            postgres.coreConfiguration.options.additionalStartupParameters.append(
                ("application_name", applicationName))
            perLoop = configuration.maxConnectionsPerEventLoop
            databases.use(
                .postgres(
                    configuration: postgres,
                    maxConnectionsPerEventLoop: perLoop,
                    connectionPoolTimeout: .seconds(10),
                    encodingContext: .default,
                    decodingContext: .default,
                    sqlLogLevel: .trace
                ),
                as: .psql
            )
            if let replica = configuration.readReplica {
                var read = try SQLPostgresConfiguration(url: replica.url)
                read.searchPath = [schema]
                read.coreConfiguration.options.additionalStartupParameters.append(
                    ("application_name", applicationName))
                databases.use(
                    .postgres(
                        configuration: read,
                        maxConnectionsPerEventLoop: perLoop,
                        connectionPoolTimeout: .seconds(10),
                        encodingContext: .default,
                        decodingContext: .default,
                        sqlLogLevel: .trace
                    ),
                    as: .replica,
                    isDefault: false
                )
            }
        }
        // Each event loop has a pool of its own.
        let loops = Array(databases.eventLoopGroup.makeIterator())
        PersistenceMetrics.poolLimit.gauge(schema).record(loops.count * perLoop)
        // Handles are made now, one per event loop and pool: FluentKit hands out none once its
        // pools are shut, and work still finishing after shutdown (an event being handled) must
        // get an unavailable error from a closed pool, not stop the process.
        primaryHandles = try Self.handles(of: databases, id: nil, on: loops, logger: databaseLogger)
        replicaHandles =
            configuration.readReplica == nil
            ? nil : try Self.handles(of: databases, id: .replica, on: loops, logger: databaseLogger)
    }

    private let primaryHandles: Handles
    private let replicaHandles: Handles?

    /// A pool's handles by event loop.
    private struct Handles: Sendable {
        var byLoop: [ObjectIdentifier: any SQLDatabase & Database]
        /// For a loop of another group (none is expected).
        var any: any SQLDatabase & Database

        func on(_ loop: any EventLoop) -> any SQLDatabase & Database {
            byLoop[ObjectIdentifier(loop)] ?? any
        }
    }

    private static func handles(
        of databases: Databases, id: DatabaseID?, on loops: [any EventLoop], logger: Logger
    ) throws -> Handles {
        var byLoop: [ObjectIdentifier: any SQLDatabase & Database] = [:]
        var first: (any SQLDatabase & Database)?
        for loop in loops {
            guard let handle = databases.database(id, logger: logger, on: loop) as? any SQLDatabase & Database else {
                throw ServiceDatabaseSetupError()
            }
            byLoop[ObjectIdentifier(loop)] = handle
            first = first ?? handle
        }
        guard let first else { throw ServiceDatabaseSetupError() }
        return Handles(byLoop: byLoop, any: first)
    }

    /// A handle for queries; cheap, make one per unit of work.
    package var db: any Database {
        primaryHandles.on(databases.eventLoopGroup.any())
    }

    /// Runs `body`, a read that tolerates replication lag (a list, a search, statistics, a
    /// statement, an export), on the read replica when one is configured, it holds every commit
    /// older than its lag bound, and the call does not ask for the primary
    /// (``IncomingCall/readsPrimary``: its caller wrote moments ago). Otherwise, and when the
    /// replica fails the read, on the primary. Never for a read in a write path or one that
    /// decides money: those use ``db``.
    package func replicaRead<T: Sendable>(
        _ body: @Sendable (any SQLDatabase & Database) async throws -> T
    ) async throws -> T {
        guard let replica else { return try await body(primary) }
        if IncomingCall.current.readsPrimary {
            primaryReads[.readYourWrites]?.increment()
            return try await body(primary)
        }
        if let reason = replica.fallbackReason() {
            primaryReads[reason]?.increment()
            return try await body(primary)
        }
        guard let replicaDatabase = replicaHandles?.on(databases.eventLoopGroup.any()) else {
            return try await body(primary)
        }
        do {
            let result = try await body(replicaDatabase)
            replicaReads.increment()
            return result
        } catch let error where DatabaseAvailability.isUnavailable(error) || Self.isRecoveryConflict(error) {
            // The replica went away, or cancelled the read because replaying the primary's WAL
            // needed what it held: the primary answers instead, and a check finds the replica again.
            if DatabaseAvailability.isUnavailable(error) { replica.failed(error) }
            primaryReads[.failedOver]?.increment()
            return try await body(primary)
        }
    }

    /// ``db`` as both Fluent and SQLKit see it, untimed: also for the database's own probes and
    /// samples, which would crowd the statement timings with trivial statements while idle.
    private var primary: any SQLDatabase & Database {
        primaryHandles.on(databases.eventLoopGroup.any())
    }

    /// A hot standby cancels a query that holds up the replay of the primary's WAL
    /// ("canceling statement due to conflict with recovery", SQLSTATE 40001).
    private static func isRecoveryConflict(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        return error.code == .server && error.serverInfo?[.sqlState] == "40001"
    }

    /// Whether reads that tolerate staleness may go to the replica now (false without one).
    package var replicaServing: Bool { replica.map { $0.fallbackReason() == nil } ?? false }

    /// Measures the replica's lag once now, as the periodic check does.
    package func checkReplica() async {
        guard let replica, let replicaSQL = replicaHandles?.on(databases.eventLoopGroup.any()) else { return }
        await replica.check(primary: primary, replica: replicaSQL)
    }

    /// The same handle as SQLKit, for set-based statements; each statement is timed.
    package var sql: any SQLDatabase {
        TimedSQLDatabase(base: primary, timer: pool.queryDuration)
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
            let use = pool.transactionStarted()
            defer { use.ended() }
            return try await self.retryingStaleSnapshots { database in
                use.connected()
                return try await IncomingCall.$current.withValue(call) {
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
        try await primary.raw("SELECT 1").run()
    }

    /// Until graceful shutdown: on PostgreSQL, reports this process's connections as the server
    /// sees them every 15 seconds. Then closes the pools.
    package func run() async throws {
        if isPostgres {
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        while !Task.isCancelled {
                            await self.recordServerConnections()
                            try? await Task.sleep(for: .seconds(15))
                        }
                    }
                    if let interval = self.replica?.configuration.checkInterval {
                        group.addTask {
                            while !Task.isCancelled {
                                await self.checkReplica()
                                try? await Task.sleep(for: interval)
                            }
                        }
                    }
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        await shutdown()
    }

    /// `rahat_db_pool_connections` by state, from `pg_stat_activity`. The sampling connection is
    /// counted idle, as it is between samples. A sample that fails leaves the last figures:
    /// readiness reports an unreachable database.
    package func recordServerConnections() async {
        do {
            let rows = try await primary.raw(
                """
                SELECT CASE WHEN pid = pg_backend_pid() THEN 'idle' ELSE state END AS state,
                    count(*)::integer AS connections
                FROM pg_stat_activity WHERE application_name = \(bind: applicationName) GROUP BY 1
                """
            ).all()
            var counts = ["active": 0, "idle": 0, "idle_in_transaction": 0, "other": 0]
            for row in rows {
                let state = try row.decode(column: "state", as: String?.self)
                let key: String
                switch state {
                case "active", "idle": key = state ?? "other"
                case "idle in transaction", "idle in transaction (aborted)": key = "idle_in_transaction"
                default: key = "other"
                }
                counts[key, default: 0] += try row.decode(column: "connections", as: Int.self)
            }
            for (state, count) in counts {
                PersistenceMetrics.serverConnections.gauge(schema, state).record(count)
            }
        } catch {
            logger.debug("could not read the connection figures", metadata: ["error": "\(error)"])
        }
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

/// This process's pool use for one service database: transactions waiting for a connection and
/// holding one. AsyncKit's pool does not report its own queue, so the transactions that pass
/// through ``ServiceDatabase/transaction(_:)`` are counted as they wait and run; statements run
/// on their own hold a connection only while they run, and are timed instead.
final class PoolGauges: Sendable {
    let waiting: Gauge
    let active: Gauge
    let wait: Metrics.Timer
    let queryDuration: Metrics.Timer
    private let counts = Mutex((waiting: 0, active: 0))
    private static let bySchema = Mutex<[String: PoolGauges]>([:])

    /// The figures of `schema`'s transactions in this process, shared by every handle on that
    /// database, so that a second one does not reset the first one's gauges.
    static func of(_ schema: String) -> PoolGauges {
        bySchema.withLock { known in
            if let gauges = known[schema] { return gauges }
            let gauges = PoolGauges(schema: schema)
            known[schema] = gauges
            return gauges
        }
    }

    private init(schema: String) {
        waiting = PersistenceMetrics.transactionsWaiting.gauge(schema)
        active = PersistenceMetrics.transactionsActive.gauge(schema)
        wait = PersistenceMetrics.connectionWait.timer(schema)
        queryDuration = PersistenceMetrics.queryDuration.timer(schema)
        waiting.record(0)
        active.record(0)
    }

    /// Counts a transaction as waiting until ``TransactionUse/connected()``.
    func transactionStarted() -> TransactionUse {
        move(waiting: 1, active: 0)
        return TransactionUse(gauges: self)
    }

    fileprivate func move(waiting: Int, active: Int) {
        // Recorded under the lock, so that two moves cannot leave the older figure last.
        counts.withLock { counts in
            counts.waiting += waiting
            counts.active += active
            if waiting != 0 { self.waiting.record(counts.waiting) }
            if active != 0 { self.active.record(counts.active) }
        }
    }
}

/// One transaction's place in ``PoolGauges``: waiting, then holding a connection, then gone.
final class TransactionUse: Sendable {
    private let gauges: PoolGauges
    private let started = ContinuousClock.now
    /// 0 waiting, 1 connected, 2 ended.
    private let state = Atomic<Int>(0)

    fileprivate init(gauges: PoolGauges) {
        self.gauges = gauges
    }

    /// The transaction's body began: it holds a connection. Later calls (a retried SQLite body) do nothing.
    func connected() {
        guard state.compareExchange(expected: 0, desired: 1, ordering: .relaxed).exchanged else { return }
        gauges.wait.record(duration: .now - started)
        gauges.move(waiting: -1, active: 1)
    }

    /// The transaction finished, however it ended.
    func ended() {
        switch state.exchange(2, ordering: .relaxed) {
        case 0:
            // It never got a connection (the pool timed out, or BEGIN failed): the longest waits
            // of all, which the wait's percentiles must not leave out.
            gauges.wait.record(duration: .now - started)
            gauges.move(waiting: -1, active: 0)
        case 1: gauges.move(waiting: 0, active: -1)
        default: break
        }
    }
}

extension DatabaseID {
    /// The read replica's pool, beside the primary's `.psql`.
    fileprivate static let replica = DatabaseID(string: "psql-replica")
}

/// FluentKit did not give a handle for a pool just configured.
struct ServiceDatabaseSetupError: Error, CustomStringConvertible {
    var description: String { "the database pools could not be set up" }
}
