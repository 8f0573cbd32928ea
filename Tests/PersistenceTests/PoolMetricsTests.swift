import Foundation
import Operations
import Persistence
import SQLKit
import Synchronization
import TestInfrastructure
import Testing

/// A service database reports its pool: transactions waiting for a connection and holding one,
/// the wait, statements run on their own, and the connections the server sees.
@Suite("Database pool metrics", .enabled(if: DatabaseEngine.available.contains(.postgres)))
struct PoolMetricsTests {
    @Test("transactions past the pool's size wait, and the gauges and the server say so")
    func waitingAndActive() async throws {
        try await TestDatabase.with(.postgres, migrating: []) { testDatabase in
            _ = RahatMetrics.bootstrap()
            // A schema of its own: the gauges are the process's, shared by every test.
            let schema = "pool_\(UUID().uuidString.prefix(8).lowercased())"
            var configuration = testDatabase.configuration
            configuration.maxConnectionsPerEventLoop = 1
            let database = try ServiceDatabase(configuration: configuration, schema: schema, logger: .test)
            func sample(_ name: String, _ more: String = "") -> Double {
                MetricsPage.value(of: "\(name){service=\"\(schema)\"\(more)}", in: RahatMetrics.exposition()) ?? -1
            }
            do {
                try await database.prepare()
                let limit = Int(sample("rahat_db_pool_connections_max"))
                #expect(limit >= 1)
                let count = limit + 3
                let gate = Gate()

                try await withThrowingTaskGroup(of: Void.self) { group in
                    // given: more transactions than connections, each holding its connection
                    for _ in 0..<count {
                        group.addTask {
                            try await database.sqlTransaction { tx in
                                try await tx.raw("SELECT 1").run()
                                gate.running.add(1, ordering: .relaxed)
                                while !gate.open.load(ordering: .relaxed) {
                                    try await Task.sleep(for: .milliseconds(10))
                                }
                            }
                        }
                    }
                    // when: as many as the pool allows have started (each event loop has a pool
                    // of one, and transactions are handed to the loops in turn)
                    let deadline = ContinuousClock.now + .seconds(30)
                    while gate.running.load(ordering: .relaxed) < limit, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    try await Task.sleep(for: .milliseconds(100))

                    // then
                    let active = sample("rahat_db_pool_transactions_active")
                    let waiting = sample("rahat_db_pool_transactions_waiting")
                    #expect(gate.running.load(ordering: .relaxed) == limit)
                    #expect(active == Double(limit))
                    #expect(waiting == 3)
                    // and the server knows the process's connections by their name (asked on a
                    // pool of its own: this one has no connection free)
                    let observer = try ServiceDatabase(configuration: configuration, schema: schema, logger: .test)
                    let holding = try await observer.sql.raw(
                        """
                        SELECT count(*)::integer AS n FROM pg_stat_activity
                        WHERE application_name = \(bind: database.applicationName) AND state = 'idle in transaction'
                        """
                    ).first(decodingColumn: "n", as: Int.self)
                    await observer.shutdown()
                    #expect(holding.map(Double.init) == active)

                    gate.open.store(true, ordering: .relaxed)
                    try await group.waitForAll()
                }
                // and when they are done, nothing waits or holds a connection, and each wait was timed
                #expect(sample("rahat_db_pool_transactions_active") == 0)
                #expect(sample("rahat_db_pool_transactions_waiting") == 0)
                #expect(sample("rahat_db_pool_wait_duration_seconds_count") == Double(count))
                // and the server sees every connection idle, the sampling one included
                await database.recordServerConnections()
                #expect(sample("rahat_db_pool_connections", ",state=\"active\"") == 0)
                #expect(sample("rahat_db_pool_connections", ",state=\"idle\"") == Double(limit))
                #expect(sample("rahat_db_pool_connections", ",state=\"idle_in_transaction\"") == 0)

                // and a transaction that fails gives its connection back to the count
                await #expect(throws: CancellationError.self) {
                    try await database.sqlTransaction { tx in
                        try await tx.raw("SELECT 1").run()
                        throw CancellationError()
                    }
                }
                #expect(sample("rahat_db_pool_transactions_active") == 0)
                #expect(sample("rahat_db_pool_transactions_waiting") == 0)

                let before = sample("rahat_db_query_duration_seconds_count")
                try await database.sql.raw("SELECT 1").run()
                #expect(sample("rahat_db_query_duration_seconds_count") == max(before, 0) + 1)
                await database.shutdown()
            } catch {
                await database.shutdown()
                throw error
            }
        }
    }
}

/// Holds the test's transactions until it opens.
private final class Gate: Sendable {
    let open = Atomic(false)
    let running = Atomic(0)
}
