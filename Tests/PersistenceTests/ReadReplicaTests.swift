import Foundation
import Persistence
import SQLKit
import ServerKit
import TestInfrastructure
import Testing

@Suite(
    "Read replicas: a real streaming replica serves the reads that tolerate lag, within its bound",
    .serialized, .enabled(if: TestReplica.isAvailable))
struct ReadReplicaTests {
    private struct Answer: Decodable {
        var standby: Bool
        var notes: Int
    }

    /// Runs `body` with a service database on a fresh test database that reads from the replica's
    /// copy of it, holding a table `notes` with one row, once the replica holds it too. The
    /// periodic lag check does not run: each test checks when it means to.
    private func withReplicatedDatabase(
        maxLag: Duration, _ body: (ServiceDatabase, _ primary: URL, _ replica: URL) async throws -> Void
    ) async throws {
        try await TestReplica.exclusively {
            try await TestDatabase.with(.postgres, migrating: []) { testDatabase in
                guard case .postgres(let url) = testDatabase.configuration.location else { return }
                let replicaURL = try await TestReplica.url(of: url)
                var configuration = testDatabase.configuration
                configuration.readReplica = ReadReplicaConfiguration(url: replicaURL, maxLag: maxLag)
                let database = try ServiceDatabase(configuration: configuration, schema: "reads", logger: .test)
                do {
                    try await database.prepare()
                    try await database.sql.raw("CREATE TABLE notes (id integer PRIMARY KEY, body text)").run()
                    try await database.sql.raw("INSERT INTO notes VALUES (1, 'first')").run()
                    try await TestReplica.waitUntilCaughtUp()
                    try await body(
                        database, try #require(TestReplica.primaryAdminURL), try #require(TestReplica.adminURL))
                    await database.shutdown()
                } catch {
                    await database.shutdown()
                    throw error
                }
            }
        }
    }

    /// Checks the replica until it serves. Each check compares the replica with positions the
    /// primary held at earlier checks, so on a primary other tests keep writing to, the first
    /// check alone cannot show it caught up.
    private func checkUntilServing(_ database: ServiceDatabase) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            await database.checkReplica()
            if database.replicaServing { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    private static let probe = "SELECT pg_is_in_recovery() AS standby, count(*)::integer AS notes FROM notes"

    private func read(_ database: ServiceDatabase, marker: String = "") async throws -> Answer {
        let statement = marker.isEmpty ? Self.probe : "/* \(marker) */ " + Self.probe
        return try await database.replicaRead { sql in
            try #require(try await sql.raw(SQLQueryString(statement)).first(decoding: Answer.self))
        }
    }

    @Test("lists go to the replica, the primary's own reads and a caller who just wrote to the primary")
    func routing() async throws {
        try await withReplicatedDatabase(maxLag: .seconds(5)) { database, primaryAdmin, replicaAdmin in
            // given
            let serving = try await checkUntilServing(database)
            let marker = "rahat-replica-read-\(UUID().uuidString.lowercased())"
            // when
            let replicated = try await read(database, marker: marker)
            let direct = try await database.sql.raw(SQLQueryString(Self.probe)).first(decoding: Answer.self)
            let afterOwnWrite = try await IncomingCall.$current.withValue(IncomingCall(readsPrimary: true)) {
                try await read(database)
            }
            // then
            #expect(serving)
            #expect(replicated.standby)
            #expect(replicated.notes == 1)
            #expect(direct?.standby == false)
            #expect(afterOwnWrite.standby == false)
            // The servers' own account: this process's connections to the replica ran the marked
            // read, and none of its connections to the primary did.
            let onReplica = try await TestReplica.statements(of: database.applicationName, on: replicaAdmin)
            let onPrimary = try await TestReplica.statements(of: database.applicationName, on: primaryAdmin)
            #expect(onReplica.contains { $0.contains(marker) })
            #expect(!onPrimary.contains { $0.contains(marker) })
        }
    }

    @Test("a replica whose replay is paused serves until it lags past the bound, then the primary answers")
    func lagging() async throws {
        try await withReplicatedDatabase(maxLag: .seconds(4)) { database, _, _ in
            // given
            let servingBefore = try await checkUntilServing(database)
            try await TestReplica.pauseReplay()
            do {
                // when: a write the replica receives and does not apply
                try await database.sql.raw("INSERT INTO notes VALUES (2, 'second')").run()
                await database.checkReplica()
                let withinBound = try await read(database)
                try await Task.sleep(for: .milliseconds(4_300))
                await database.checkReplica()
                let pastBound = try await read(database)
                let servingWhileBehind = database.replicaServing
                try await TestReplica.resumeReplay()
                try await TestReplica.waitUntilCaughtUp()
                let servingAgain = try await checkUntilServing(database)
                let caughtUp = try await read(database)
                // then
                #expect(servingBefore)
                // Still within the bound: the replica answers, without the newest row.
                #expect(withinBound.standby && withinBound.notes == 1)
                #expect(!servingWhileBehind)
                #expect(!pastBound.standby && pastBound.notes == 2)
                #expect(servingAgain)
                #expect(caughtUp.standby && caughtUp.notes == 2)
            } catch {
                try? await TestReplica.resumeReplay()
                throw error
            }
        }
    }

    @Test("a stopped replica fails no read: the primary answers until the replica is back")
    func stopped() async throws {
        try await withReplicatedDatabase(maxLag: .seconds(5)) { database, _, _ in
            // given
            let servingBefore = try await checkUntilServing(database)
            let before = try await read(database)
            try await TestReplica.stop()
            do {
                // when: the first read finds the replica gone before any check has
                let duringOutage = try await read(database)
                let servingAfterFailure = database.replicaServing
                await database.checkReplica()
                let servingAfterCheck = database.replicaServing
                let afterCheck = try await read(database)
                try await database.ping()
                try await TestReplica.start()
                try await TestReplica.waitUntilCaughtUp()
                let servingAgain = try await checkUntilServing(database)
                let back = try await read(database)
                // then
                #expect(servingBefore)
                #expect(before.standby)
                #expect(!duringOutage.standby && duringOutage.notes == 1)
                #expect(!servingAfterFailure)
                #expect(!servingAfterCheck)
                #expect(!afterCheck.standby)
                #expect(servingAgain)
                #expect(back.standby && back.notes == 1)
            } catch {
                try? await TestReplica.start()
                throw error
            }
        }
    }

    @Test("a read URL naming a server that is not a standby is never used")
    func notAStandby() async throws {
        try await TestReplica.exclusively {
            try await TestDatabase.with(.postgres, migrating: []) { testDatabase in
                guard case .postgres(let url) = testDatabase.configuration.location else { return }
                var configuration = testDatabase.configuration
                configuration.readReplica = ReadReplicaConfiguration(url: url)
                let database = try ServiceDatabase(configuration: configuration, schema: "reads", logger: .test)
                await database.checkReplica()
                #expect(!database.replicaServing)
                await database.shutdown()
            }
        }
    }
}
