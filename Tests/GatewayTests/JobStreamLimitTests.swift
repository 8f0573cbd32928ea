import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import JobQueue
import Messaging
import Persistence
import RahatApp
import ServiceLifecycleTestKit
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    /// A job progress stream holds a connection and the job store's attention: each caller may
    /// hold a few, none lives for ever, and all end when the gateway shuts down.
    @Suite("Job streams are bounded")
    struct JobStreamLimits {
        @Test("a caller's streams are capped, and shutting down ends the open ones")
        func capAndShutdown() async throws {
            try await GatewayHarness.withEmbedded(
                .sqlite,
                configure: { $0.gateway.eventStreams = EventStreamLimits(perCaller: 2, total: 100) }
            ) { client, configuration in
                // given a job that will not run for an hour, owned by the admin
                let admin = try await client.login()
                try await Self.enqueueDelayedJob(id: "later", ownedBy: admin.access, client: client, configuration)
                let stream = { @Sendable in try await client.send(.get, "/v1/jobs/later/stream", bearer: admin.access) }

                try await testGracefulShutdown { shutdown in
                    try await withThrowingTaskGroup(of: HTTPAnswer.self) { streams in
                        // when the admin follows it three times at once
                        for _ in 0..<3 { streams.addTask { try await stream() } }

                        // then the one over the cap is refused at once while two stay open
                        let refused = try #require(try await streams.next())
                        #expect(refused.status == .tooManyRequests, "\(refused)")
                        #expect(refused.problemCode == "stream.too_many")
                        #expect(refused.headers[.retryAfter] != nil)

                        // when the gateway is told to shut down, the open ones end with what they sent
                        shutdown.triggerGracefulShutdown()
                        var ended = 0
                        for try await answer in streams {
                            #expect(answer.status == .ok)
                            #expect(String(decoding: answer.body, as: UTF8.self).contains("event: job\ndata: "))
                            ended += 1
                        }
                        #expect(ended == 2)
                    }
                }
            }
        }

        @Test("a stream ends at its deadline, and its place is given back")
        func deadline() async throws {
            try await GatewayHarness.withEmbedded(
                .sqlite,
                configure: { $0.gateway.eventStreams = EventStreamLimits(perCaller: 1, maxDuration: .seconds(1)) }
            ) { client, configuration in
                // given
                let admin = try await client.login()
                try await Self.enqueueDelayedJob(id: "later", ownedBy: admin.access, client: client, configuration)

                // when
                let started = ContinuousClock.now
                let first = try await client.send(.get, "/v1/jobs/later/stream", bearer: admin.access)
                let took = ContinuousClock.now - started
                let second = try await client.send(.get, "/v1/jobs/later/stream", bearer: admin.access)

                // then
                #expect(first.status == .ok)
                #expect(String(decoding: first.body, as: UTF8.self).contains(#""status":"delayed""#))
                #expect(took < .seconds(15))
                #expect(second.status == .ok, "\(second)")
            }
        }

        private static func enqueueDelayedJob(
            id: String, ownedBy access: String, client: any TestClientProtocol, _ configuration: EmbeddedConfiguration
        ) async throws {
            let me = try await client.send(.get, "/v1/auth/me", bearer: access)
            let owner = try #require((try me.json["user"] as? [String: Any])?["id"] as? String)
            let database = try ServiceDatabase(
                configuration: configuration.messagingDatabase, schema: InProcessEventBus.schema, logger: .test)
            do {
                try await SQLJobStore(database: database).enqueue([
                    JobRequest(id: id, queue: "reports", name: "report.build", delay: .seconds(3600), owner: owner)
                ])
            } catch {
                await database.shutdown()
                throw error
            }
            await database.shutdown()
        }
    }
}
