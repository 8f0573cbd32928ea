package import FluentKit
import Foundation
import Logging
package import Persistence
import PostgresNIO
import ServerKit
import Synchronization

/// The database engines behavioural suites run against: every such test runs once per engine.
package enum DatabaseEngine: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    package var description: String { rawValue }

    /// The engines available in this run. PostgreSQL needs `RAHAT_TEST_POSTGRES_URL`, which
    /// `scripts/test` provides; under CI its absence is an error, not a silent skip.
    package static var available: [DatabaseEngine] {
        if TestPostgres.adminURL != nil { return [.sqlite, .postgres] }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            // Listing the engine anyway makes every PostgreSQL case fail loudly with the reason.
            return [.sqlite, .postgres]
        }
        return [.sqlite]
    }
}

/// A schema and the migrations that make it: what a test database is created with.
package struct SchemaMigrations: Sendable {
    package var schema: String
    package var migrations: [any Migration]

    package init(_ schema: String, _ migrations: [any Migration]) {
        self.schema = schema
        self.migrations = migrations
    }
}

/// A database made for one test and removed after it: one PostgreSQL database (each service in
/// its schema), or a directory holding one SQLite file per service.
package struct TestDatabase: Sendable {
    /// The auth service's configuration; ``configuration(for:)`` gives any service's.
    package let configuration: ServiceDatabaseConfiguration
    package let engine: DatabaseEngine
    private let drop: @Sendable () async -> Void

    /// Where `service` keeps its rows in this test database.
    package func configuration(for service: String) -> ServiceDatabaseConfiguration {
        guard case .sqlite(let path) = configuration.location else { return configuration }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        return ServiceDatabaseConfiguration(
            location: .sqlite(path: directory.appendingPathComponent("\(service).sqlite").path))
    }

    /// What a session of this PostgreSQL database is told when the server ends it (57P01, as
    /// `pg_ctl restart -m fast` ends every session), or nil on SQLite or if the server did not.
    /// The session is a connection of its own, held until it is closed: PostgresNIO's debug
    /// builds stop the process when a connection is freed before it is closed, which a pooled
    /// connection the server ends can be, and that took a whole test run down with it.
    package func errorOfEndedSession() async throws -> (any Error)? {
        guard case .postgres(let url) = configuration.location else { return nil }
        return try await TestPostgres.withConnection(admin: url) { connection, logger in
            do {
                // The server's word that it ended the session comes with the rows, so they are read.
                let rows = try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())", logger: logger)
                for try await _ in rows {}
                return nil
            } catch {
                return error
            }
        }
    }

    /// A fresh database: a new SQLite file, or a new PostgreSQL database copied from a template
    /// migrated with `schemas` once per test run (so each test starts migrated in milliseconds),
    /// or blank when there are none. SQLite files start blank: migrating them is quick.
    package static func make(
        _ engine: DatabaseEngine, migrating schemas: [SchemaMigrations]
    ) async throws
        -> TestDatabase
    {
        switch engine {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("rahat-tests-\(UUID().uuidString.lowercased())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("auth.sqlite").path
            return TestDatabase(
                configuration: ServiceDatabaseConfiguration(location: .sqlite(path: path)),
                engine: .sqlite,
                drop: { try? FileManager.default.removeItem(at: directory) }
            )
        case .postgres:
            let (url, name) = try await TestPostgres.shared.createDatabase(migrating: schemas)
            return TestDatabase(
                configuration: ServiceDatabaseConfiguration(
                    location: .postgres(url: url), maxConnectionsPerEventLoop: 2),
                engine: .postgres,
                drop: { await TestPostgres.shared.dropDatabase(name) }
            )
        }
    }

    /// Runs `statements`, in order, on this PostgreSQL database as the test server's superuser.
    package func executeAsSuperuser(_ statements: [String]) async throws {
        guard case .postgres(let url) = configuration.location else { return }
        for statement in statements { try await TestPostgres.execute(admin: url, statement) }
    }

    /// This PostgreSQL database's name; `nil` on SQLite.
    package var postgresName: String? {
        guard case .postgres(let url) = configuration.location else { return nil }
        return String(url.path.dropFirst())
    }

    /// This PostgreSQL database's URL, logging in as `role` (the test server trusts local logins).
    package func url(as role: String) -> URL? {
        guard case .postgres(let url) = configuration.location,
            var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        else { return nil }
        components.user = role
        components.password = nil
        return components.url
    }

    /// Removes the database.
    package func destroy() async {
        await drop()
    }

    /// Runs `body` with a fresh database of `engine` (see ``make(_:migrating:)``), removing it
    /// afterwards whatever happens.
    package static func with<T: Sendable>(
        _ engine: DatabaseEngine,
        migrating schemas: [SchemaMigrations],
        _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        let database = try await make(engine, migrating: schemas)
        do {
            let result = try await body(database)
            await database.destroy()
            return result
        } catch {
            await database.destroy()
            throw error
        }
    }
}

/// The PostgreSQL server `scripts/test` started, and the migrated templates tests copy.
actor TestPostgres {
    static let shared = TestPostgres()

    static var adminURL: URL? {
        ProcessInfo.processInfo.environment["RAHAT_TEST_POSTGRES_URL"].flatMap(URL.init(string:))
    }

    /// Template databases by the schemas migrated into them.
    private var templates: [[String]: String] = [:]
    private let logger = Logger.test

    enum Failure: Error, CustomStringConvertible {
        case notConfigured
        var description: String {
            "RAHAT_TEST_POSTGRES_URL is not set; run the suite with scripts/test, which starts PostgreSQL"
        }
    }

    /// A new database copied from the template migrated with `schemas`, or a blank one.
    func createDatabase(migrating schemas: [SchemaMigrations]) async throws -> (URL, String) {
        guard let admin = Self.adminURL else { throw Failure.notConfigured }
        let name = "rahat_t_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        if schemas.isEmpty {
            try await Self.execute(admin: admin, "CREATE DATABASE \(name)")
        } else {
            let template = try await templateName(schemas, admin: admin)
            try await Self.execute(admin: admin, "CREATE DATABASE \(name) TEMPLATE \(template)")
        }
        return (Self.url(admin, database: name), name)
    }

    func dropDatabase(_ name: String) async {
        guard let admin = Self.adminURL else { return }
        // A pool shut down a moment ago may still be finishing a connection it was opening. The
        // forced drop kills it mid-setup, and PostgresNIO's debug build traps on the connection it
        // then drops unclosed, taking the whole test process down. Give the connections a few
        // seconds to close themselves first; only stragglers are killed.
        for _ in 0..<30 {
            guard let open = try? await Self.connectionCount(admin: admin, database: name), open > 0 else { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        try? await Self.execute(admin: admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// How many connections are open to `database`.
    private static func connectionCount(admin: URL, database: String) async throws -> Int {
        try await withConnection(admin: admin) { connection, logger in
            var count = 0
            let rows = try await connection.query(
                "SELECT count(*)::int8 AS open FROM pg_stat_activity WHERE datname = \(database)", logger: logger)
            for try await (open) in rows.decode(Int.self) { count = open }
            return count
        }
    }

    private func templateName(_ services: [SchemaMigrations], admin: URL) async throws -> String {
        let key = services.map(\.schema)
        if let template = templates[key] { return template }
        let name = "rahat_tpl_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try await Self.execute(admin: admin, "CREATE DATABASE \(name)")
        for service in services {
            let database = try ServiceDatabase(
                configuration: ServiceDatabaseConfiguration(
                    location: .postgres(url: Self.url(admin, database: name)), maxConnectionsPerEventLoop: 1),
                schema: service.schema,
                logger: logger
            )
            do {
                try await database.migrate(service.migrations)
                await database.shutdown()
            } catch {
                await database.shutdown()
                throw error
            }
        }
        // A template must have no open connections while it is copied.
        try await Self.execute(admin: admin, "ALTER DATABASE \(name) WITH ALLOW_CONNECTIONS false")
        templates[key] = name
        return name
    }

    static func url(_ admin: URL, database: String) -> URL {
        var components = URLComponents(url: admin, resolvingAgainstBaseURL: false) ?? URLComponents()
        components.path = "/\(database)"
        return components.url ?? admin
    }

    static func execute(admin: URL, _ statement: String) async throws {
        try await withConnection(admin: admin) { connection, logger in
            _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }

    /// Runs `body` on a connection to the database `admin` names, closed afterwards.
    static func withConnection<Result>(
        admin: URL, _ body: (PostgresConnection, Logger) async throws -> Result
    ) async throws -> Result {
        guard let host = admin.host else { throw Failure.notConfigured }
        let logger = Logger(label: "rahat.tests.postgres")
        let configuration = PostgresConnection.Configuration(
            host: host,
            port: admin.port ?? 5432,
            username: admin.user ?? "postgres",
            password: admin.password,
            database: admin.path.isEmpty ? "postgres" : String(admin.path.dropFirst()),
            tls: .disable
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let result = try await body(connection, logger)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
