import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import Messaging
import Persistence
import RahatApp
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Jobs over HTTP")
    struct Jobs {
        @Test(
            "jobs are seen by their owner and by job:read, paged, retried once failed, and followed live",
            arguments: DatabaseEngine.available)
        func lifecycle(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client, configuration in
                // given the queue the platform runs on, an agent, and a job for each of them
                let database = try ServiceDatabase(
                    configuration: configuration.messagingDatabase, schema: InProcessEventBus.schema, logger: .test)
                do {
                    let store = SQLJobStore(database: database)
                    let admin = try await client.login()
                    let me = try await client.send(.get, "/v1/auth/me", bearer: admin.access)
                    let adminID = try #require(try (me.json["user"] as? [String: Any])?["id"] as? String)
                    let created = try await client.send(
                        .post, "/v1/users",
                        json: [
                            "name": "Agent", "email": "agent@example.org", "password": "another long passphrase",
                            "roles": [["role": "field_agent"]],
                        ],
                        bearer: admin.access)
                    let agentID = try #require(try created.json["id"] as? String)
                    let agent = try await client.login("agent@example.org", "another long passphrase")
                    try await store.enqueue([
                        JobRequest(id: "mine", queue: "reports", name: "report.build", owner: agentID),
                        JobRequest(
                            id: "theirs", queue: "reports", name: "report.build", maxAttempts: 1, owner: adminID),
                    ])

                    // when
                    let own = try await client.send(.get, "/v1/jobs/mine", bearer: agent.access)
                    let hidden = try await client.send(.get, "/v1/jobs/theirs", bearer: agent.access)
                    let agentList = try await client.send(.get, "/v1/jobs", bearer: agent.access)
                    let adminList = try await client.send(.get, "/v1/jobs?queue=reports", bearer: admin.access)
                    let firstPage = try await client.send(.get, "/v1/jobs?limit=1", bearer: admin.access)
                    let cursor = try #require(try firstPage.json["nextCursor"] as? String)
                    let secondPage = try await client.send(
                        .get, "/v1/jobs?limit=1&cursor=\(cursor)", bearer: admin.access)
                    let badCursor = try await client.send(.get, "/v1/jobs?cursor=bm9wZQ", bearer: admin.access)
                    let badLimit = try await client.send(.get, "/v1/jobs?limit=0", bearer: admin.access)
                    let notFailed = try await client.send(.post, "/v1/jobs/theirs/retry", bearer: admin.access)

                    // then
                    #expect(own.status == .ok)
                    #expect(try own.json["status"] as? String == "waiting")
                    #expect(try own.json["queue"] as? String == "reports")
                    #expect(hidden.status == .notFound)
                    #expect(try Self.ids(agentList) == ["mine"])
                    #expect(try Self.ids(adminList) == ["theirs", "mine"])
                    #expect(try Self.ids(firstPage) == ["theirs"])
                    #expect(try Self.ids(secondPage) == ["mine"])
                    #expect(try secondPage.json["nextCursor"] == nil)
                    #expect(badCursor.status == .badRequest)
                    #expect(badCursor.problemFields == ["cursor"])
                    #expect(badLimit.problemFields == ["limit"])
                    #expect(notFailed.status == .conflict)

                    // when one job fails its only attempt and the other completes
                    let claimed = try await store.claim(queue: "reports", worker: "w", lock: .seconds(30), limit: 2)
                    #expect(Set(claimed.map(\.id)) == ["mine", "theirs"])
                    _ = try await store.fail(
                        "theirs", worker: "w", error: "the report template is missing", retrying: true)
                    _ = try await store.complete("mine", worker: "w", result: #"{"rows":3}"#)
                    let failed = try await client.send(.get, "/v1/jobs/theirs", bearer: admin.access)
                    let done = try await client.send(.get, "/v1/jobs/mine", bearer: agent.access)
                    let retried = try await client.send(.post, "/v1/jobs/theirs/retry", bearer: admin.access)
                    let agentRetry = try await client.send(.post, "/v1/jobs/theirs/retry", bearer: agent.access)

                    // then
                    #expect(try failed.json["status"] as? String == "failed")
                    #expect(try failed.json["error"] as? String == "the report template is missing")
                    #expect(try done.json["status"] as? String == "completed")
                    #expect(try (done.json["result"] as? [String: Any])?["rows"] as? Int == 3)
                    #expect(retried.status == .ok)
                    #expect(try retried.json["status"] as? String == "waiting")
                    #expect(try retried.json["attempts"] as? Int == 0)
                    #expect(agentRetry.status == .notFound)

                    // when the retried job is followed while a worker runs it
                    let stream = Task { try await client.send(.get, "/v1/jobs/theirs/stream", bearer: admin.access) }
                    try await Task.sleep(for: .seconds(1))
                    let again = try await store.claim(queue: "reports", worker: "w2", lock: .seconds(30), limit: 1)
                    #expect(again.map(\.id) == ["theirs"])
                    _ = try await store.reportProgress("theirs", worker: "w2", percent: 40, message: "page 2 of 5")
                    try await Task.sleep(for: .seconds(1))
                    _ = try await store.complete("theirs", worker: "w2", result: nil)
                    let followed = try await stream.value

                    // then the stream carried the job's states as events and ended with it
                    #expect(followed.status == .ok)
                    #expect(followed.headers[.contentType]?.hasPrefix("text/event-stream") == true)
                    let events = String(decoding: followed.body, as: UTF8.self).components(separatedBy: "\n\n")
                        .filter { $0.hasPrefix("event: job\ndata: ") }
                        .compactMap { event -> [String: Any]? in
                            let json = Data(event.dropFirst("event: job\ndata: ".count).utf8)
                            return try? JSONSerialization.jsonObject(with: json) as? [String: Any]
                        }
                    #expect(events.first?["id"] as? String == "theirs")
                    #expect(events.last?["status"] as? String == "completed")
                    #expect(events.count >= 2)
                    await database.shutdown()
                } catch {
                    await database.shutdown()
                    throw error
                }
            }
        }

        private static func ids(_ answer: HTTPAnswer) throws -> [String] {
            (try answer.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        }
    }
}
