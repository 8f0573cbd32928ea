import Foundation
import HTTPTypes
import HummingbirdTesting
import Operations
import Persistence
import RahatApp
import TestInfrastructure
import TestSupport
import Testing

@Suite(
    "Read replicas across processes",
    .serialized, .enabled(if: TestReplica.isAvailable && DatabaseEngine.available.contains(.postgres)))
struct ReadReplicaRoutingTests {
    @Test("a caller reads its own writes through a lagging replica; other callers' lists read the replica")
    func readYourWrites() async throws {
        try await TestReplica.exclusively {
            try await TestDatabase.with(.postgres) { database in
                guard case .postgres(url: let url) = database.configuration.location else { return }
                let replica = try await TestReplica.url(of: url)
                let auth = try await DistributedTests.startAuth(databaseURL: url)
                // A bound no pause in this test reaches: only read-your-writes sends lists to the primary.
                let core = try await DistributedTests.startCore(
                    databaseURL: url, authPort: auth.port,
                    extra: [
                        "DATABASE_READ_URL": replica.absoluteString, "RAHAT_DB_REPLICA_MAX_LAG_MS": "600000",
                        "RAHAT_DB_REPLICA_CHECK_MS": "50",
                    ])
                defer {
                    auth.task.cancel()
                    core.task.cancel()
                }
                let gateway = try Platform.gatewayProcess(
                    configuration: DistributedTests.gatewayConfiguration(authPort: auth.port, corePort: core.port),
                    logger: .test)
                try await GatewayHarness.run(gateway, testing: .live) { client in
                    // given: a second caller, an API key, which writes nothing itself
                    let tokens = try await client.login()
                    let created = try await client.send(
                        .post, "/v1/api-keys", json: ["name": "auditor", "permissions": ["beneficiary:read"]],
                        bearer: tokens.access)
                    let key = try #require(try created.json["key"] as? String, "\(created)")
                    let asKey: HTTPFields = [HTTPField.Name("X-API-Key")!: key]
                    try await TestReplica.waitUntilCaughtUp()
                    // The core process checks its replica every 50 ms; it runs in this test process,
                    // whose metrics say when it has found the replica in step.
                    let deadline = ContinuousClock.now + .seconds(30)
                    while MetricsPage.value(
                        of: #"rahat_db_replica_serving{service="core"}"#, in: RahatMetrics.exposition())
                        != 1, ContinuousClock.now < deadline
                    {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    try await TestReplica.pauseReplay()
                    do {
                        // when: the admin registers someone the replica will not see until replay resumes
                        let registered = try await client.send(
                            .post, "/v1/beneficiaries", json: ["name": "Maya Gurung", "gender": "female"],
                            bearer: tokens.access)
                        let id = try #require(try registered.json["id"] as? String, "\(registered)")
                        let ownList = try await client.send(.get, "/v1/beneficiaries?limit=100", bearer: tokens.access)
                        let othersList = try await client.send(.get, "/v1/beneficiaries?limit=100", headers: asKey)
                        let othersDetail = try await client.send(.get, "/v1/beneficiaries/\(id)", headers: asKey)
                        try await TestReplica.resumeReplay()
                        try await TestReplica.waitUntilCaughtUp()
                        let othersLater = try await client.send(.get, "/v1/beneficiaries?limit=100", headers: asKey)
                        // then
                        func ids(_ answer: HTTPAnswer) throws -> [String] {
                            try (answer.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                        }
                        #expect(registered.status == .created)
                        #expect(ownList.status == .ok)
                        #expect(try ids(ownList).contains(id), "the writer's own list reads the primary")
                        #expect(othersList.status == .ok)
                        #expect(try !ids(othersList).contains(id), "another caller's list reads the paused replica")
                        #expect(othersDetail.status == .ok, "a read by id is not a list: the primary answers it")
                        #expect(try ids(othersLater).contains(id))
                    } catch {
                        try? await TestReplica.resumeReplay()
                        throw error
                    }
                }
            }
        }
    }
}
