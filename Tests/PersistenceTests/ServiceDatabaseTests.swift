import Foundation
import Logging
import Persistence
import SQLKit
import ServerKit
import Synchronization
import TestInfrastructure
import Testing

@Suite("Service databases")
struct ServiceDatabaseTests {
    private struct Row: Decodable {
        var name: String
    }

    @Test(
        "on PostgreSQL a service's tables live only in its own schema",
        .enabled(if: DatabaseEngine.available.contains(.postgres))
    )
    func schemaIsolation() async throws {
        try await TestDatabase.with(.postgres, migrating: []) { testDatabase in
            // given
            let database = try ServiceDatabase(
                configuration: testDatabase.configuration, schema: "billing", logger: .test)
            do {
                try await database.prepare()
                // when: an unqualified name, as every repository writes it
                try await database.sql.raw("CREATE TABLE invoices (id integer PRIMARY KEY)").run()
                // then
                let rows = try await database.sql.raw(
                    "SELECT table_schema AS name FROM information_schema.tables WHERE table_name = 'invoices'"
                ).all(decoding: Row.self)
                #expect(rows.map(\.name) == ["billing"])
                try await database.ping()
                await database.shutdown()
            } catch {
                await database.shutdown()
                throw error
            }
        }
    }

    @Test("on SQLite each service gets its own file, journaled with WAL")
    func sqliteFile() async throws {
        try await TestDatabase.with(.sqlite, migrating: []) { testDatabase in
            let database = try ServiceDatabase(configuration: testDatabase.configuration, schema: "auth", logger: .test)
            do {
                try await database.prepare()
                let mode = try await database.sql.raw("PRAGMA journal_mode").first(decoding: JournalMode.self)
                #expect(mode?.journal_mode == "wal")
                guard case .sqlite(let path) = testDatabase.configuration.location else { return }
                #expect(FileManager.default.fileExists(atPath: path))
                await database.shutdown()
            } catch {
                await database.shutdown()
                throw error
            }
        }
    }

    @Test("on SQLite a transaction whose snapshot another connection's commit made stale runs again")
    func staleSnapshotRetried() async throws {
        try await TestDatabase.with(.sqlite, migrating: []) { testDatabase in
            // given: two pools on one file, as the relay and a request handler have
            let database = try ServiceDatabase(configuration: testDatabase.configuration, schema: "core", logger: .test)
            let other = try ServiceDatabase(configuration: testDatabase.configuration, schema: "core", logger: .test)
            do {
                try await database.prepare()
                try await database.sql.raw("CREATE TABLE counters (id integer PRIMARY KEY, n integer NOT NULL)").run()
                try await database.sql.raw("INSERT INTO counters VALUES (1, 0)").run()
                let attempts = Attempts()
                // when: the transaction reads, the other connection commits, then it writes
                try await database.transaction { tx in
                    let sql = try #require(tx as? any SQLDatabase)
                    let read = try await sql.raw("SELECT n FROM counters WHERE id = 1").first(decoding: Counter.self)
                    if attempts.next() == 1 {
                        try await other.sql.raw("UPDATE counters SET n = n + 100 WHERE id = 1").run()
                    }
                    try await sql.raw("UPDATE counters SET n = \(bind: (read?.n ?? 0) + 1) WHERE id = 1").run()
                }
                // then: the first attempt's stale read was not written; the second saw the commit
                let counter = try await database.sql.raw("SELECT n FROM counters WHERE id = 1")
                    .first(decoding: Counter.self)
                #expect(counter?.n == 101)
                #expect(attempts.count == 2)
                await other.shutdown()
                await database.shutdown()
            } catch {
                await other.shutdown()
                await database.shutdown()
                throw error
            }
        }
    }

    private struct Counter: Decodable {
        var n: Int
    }

    private final class Attempts: Sendable {
        private let value = Atomic(0)
        var count: Int { value.load(ordering: .relaxed) }
        func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
    }

    private struct JournalMode: Decodable {
        var journal_mode: String
    }

    @Test("DATABASE_URL selects PostgreSQL; without it the service uses a file in the data directory")
    func configuration() {
        var withURL = ConfigurationSource(environment: ["DATABASE_URL": "postgres://u:p@db.internal:5433/rahat"])
        let postgres = ServiceDatabaseConfiguration(from: &withURL, service: "auth", dataDirectory: "/data")
        var withoutURL = ConfigurationSource(environment: [:])
        let sqlite = ServiceDatabaseConfiguration(from: &withoutURL, service: "auth", dataDirectory: "/data")
        var bad = ConfigurationSource(environment: ["DATABASE_URL": "mysql://nope"])
        _ = ServiceDatabaseConfiguration(from: &bad, service: "auth", dataDirectory: "/data")
        #expect(postgres.location.redacted == "postgres db.internal:5433/rahat")
        #expect(sqlite.location == .sqlite(path: "/data/auth.sqlite"))
        #expect(bad.problems.count == 1)
    }

    @Test(
        "work still arriving after shutdown (an event being handled) is refused as unavailable, and the process lives",
        arguments: DatabaseEngine.available)
    func afterShutdown(engine: DatabaseEngine) async throws {
        try await TestDatabase.with(engine, migrating: []) { testDatabase in
            // given
            let database = try ServiceDatabase(configuration: testDatabase.configuration, schema: "late", logger: .test)
            try await database.prepare()
            try await database.ping()
            await database.shutdown()
            // when
            var refusal: (any Error)?
            do {
                try await database.transaction { tx in
                    guard let sql = tx as? any SQLDatabase else { return }
                    try await sql.raw("SELECT 1").run()
                }
            } catch {
                refusal = error
            }
            // then
            let error = try #require(refusal)
            #expect(DatabaseAvailability.isUnavailable(error), "\(error)")
        }
    }

    @Test("a service's own read URL wins over DATABASE_READ_URL; a replica needs a PostgreSQL primary")
    func replicaConfiguration() {
        var shared = ConfigurationSource(environment: [
            "DATABASE_URL": "postgres://u:p@primary:5432/rahat",
            "DATABASE_READ_URL": "postgres://u:p@replica:5432/rahat",
            "RAHAT_LEDGER_DATABASE_READ_URL": "postgres://u:p@ledger-replica:5432/rahat",
            "RAHAT_DB_REPLICA_MAX_LAG_MS": "750", "RAHAT_DB_REPLICA_CHECK_MS": "100",
        ])
        let core = ServiceDatabaseConfiguration(from: &shared, service: "core", dataDirectory: "/data")
        let ledger = ServiceDatabaseConfiguration(from: &shared, service: "ledger", dataDirectory: "/data")
        var none = ConfigurationSource(environment: ["DATABASE_URL": "postgres://u:p@primary:5432/rahat"])
        let primaryOnly = ServiceDatabaseConfiguration(from: &none, service: "core", dataDirectory: "/data")
        var embedded = ConfigurationSource(environment: ["DATABASE_READ_URL": "postgres://u:p@replica:5432/rahat"])
        let sqlite = ServiceDatabaseConfiguration(from: &embedded, service: "core", dataDirectory: "/data")
        var bad = ConfigurationSource(environment: [
            "DATABASE_URL": "postgres://u:p@primary:5432/rahat", "DATABASE_READ_URL": "replica:5432",
        ])
        let unreadable = ServiceDatabaseConfiguration(from: &bad, service: "core", dataDirectory: "/data")
        #expect(core.readReplica?.redacted == "postgres replica:5432/rahat")
        #expect(core.readReplica?.maxLag == .milliseconds(750))
        #expect(core.readReplica?.checkInterval == .milliseconds(100))
        #expect(ledger.readReplica?.redacted == "postgres ledger-replica:5432/rahat")
        #expect(shared.problems.isEmpty)
        #expect(primaryOnly.readReplica == nil)
        #expect(sqlite.location == .sqlite(path: "/data/core.sqlite"))
        #expect(sqlite.readReplica == nil)
        #expect(embedded.problems.count == 1)
        #expect(unreadable.readReplica == nil)
        #expect(bad.problems.count == 1)
    }
}

@Suite("Outbox JSON")
struct OutboxJSONTests {
    @Test("event JSON is byte for byte what JSONEncoder writes with sorted keys and unescaped slashes")
    func matchesJSONEncoder() throws {
        let value: OutboxValue = .object([
            "zeta": .string("quote \" backslash \\ slash / tab \t newline \n bell \u{07} nul \u{0} ünïcödé 🙂"),
            "alpha": .int(-9_007_199_254_740_993),
            "middle": .array([.bool(true), .bool(false), .null, .object([:]), .array([])]),
            "nested": .object(["b": .string(""), "a": .int(0), "B": .string("upper sorts first")]),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(value.json == String(decoding: try encoder.encode(value), as: UTF8.self))
        #expect(try JSONSerialization.jsonObject(with: Data(value.json.utf8)) is [String: Any])
    }
}

@Suite("Database availability")
struct DatabaseAvailabilityTests {
    @Test("a PostgreSQL server nobody answers at is told apart as unavailable, a bad query is not")
    func unreachable() async throws {
        // given a port nothing listens on
        let url = try #require(URL(string: "postgres://postgres@127.0.0.1:1/postgres"))
        let database = try ServiceDatabase(
            configuration: ServiceDatabaseConfiguration(location: .postgres(url: url), maxConnectionsPerEventLoop: 1),
            schema: "nowhere", logger: .test)
        // when
        var failure: (any Error)?
        do {
            try await database.ping()
        } catch {
            failure = error
        }
        await database.shutdown()
        // then
        let error = try #require(failure)
        #expect(DatabaseAvailability.isUnavailable(error), "\(String(reflecting: error))")
        #expect(!DatabaseAvailability.isUnavailable(CancellationError()))
    }

    @Test(
        "a session PostgreSQL ends (as a restart ends every one) is unavailable; a statement's timeout is not",
        .enabled(if: DatabaseEngine.available.contains(.postgres)))
    func endedByServer() async throws {
        try await TestDatabase.with(.postgres, migrating: []) { test in
            let database = try ServiceDatabase(
                configuration: test.configuration(for: "availability"), schema: "availability", logger: .test)
            // when the server ends a session (57P01, what `pg_ctl restart -m fast` sends each one)
            let ended = try await test.errorOfEndedSession()
            // and a statement runs out of its time (57014)
            var timedOut: (any Error)?
            do {
                try await database.sqlTransaction { tx in
                    try await tx.raw("SET LOCAL statement_timeout = 10").run()
                    try await tx.raw("SELECT pg_sleep(1)").run()
                }
            } catch {
                timedOut = error
            }
            await database.shutdown()
            // then
            let endedError = try #require(ended)
            let timeoutError = try #require(timedOut)
            #expect(DatabaseAvailability.isUnavailable(endedError), "\(String(reflecting: endedError))")
            #expect(!DatabaseAvailability.isUnavailable(timeoutError), "\(String(reflecting: timeoutError))")
        }
    }
}

extension ServiceDatabaseTests {
    @Test("an embedded database's directory and files are readable by their owner only")
    func ownerOnlyFiles() async throws {
        // given a data directory that does not exist yet
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/auth.sqlite"

        // when a service opens its database there and writes to it
        let database = try ServiceDatabase(
            configuration: ServiceDatabaseConfiguration(location: .sqlite(path: path)), schema: "auth", logger: .test)
        do {
            try await database.sql.raw("CREATE TABLE secrets (value TEXT)").run()
            try await database.sql.raw("INSERT INTO secrets VALUES ('x')").run()
            await database.shutdown()
        } catch {
            await database.shutdown()
            throw error
        }

        // then
        let mode = { (path: String) in
            (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
        }
        #expect(mode(directory) == 0o700)
        #expect(mode(path) == 0o600)
        let others = try FileManager.default.contentsOfDirectory(atPath: directory).map { directory + "/" + $0 }
        #expect(others.allSatisfy { mode($0) & 0o077 == 0 }, "\(others.map { ($0, String(mode($0), radix: 8)) })")
    }
}
