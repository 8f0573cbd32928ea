import InMemoryTracing
import Logging
import RedisClient
import TestInfrastructure
import Testing
import Tracing

extension RedisIntegrationTests {
    /// Commands sent for traced work are client spans under it, named by the command and never
    /// by its keys or values; traffic outside any span starts no trace.
    @Suite struct Tracing {
        /// A client of the test server whose commands `tracer` traces.
        static func withTracedClient(
            _ tracer: InMemoryTracer, _ body: (RedisClient) async throws -> Void
        ) async throws {
            try await TestRedis.withClient { plain in
                let client = RedisClient(
                    configuration: plain.configuration, logger: Logger(label: "test"), tracer: tracer)
                do {
                    try await body(client)
                    await client.shutdown()
                } catch {
                    await client.shutdown()
                    throw error
                }
            }
        }

        @Test("a command sent inside a span is its child, named by the command alone")
        func commandInsideSpan() async throws {
            // given
            let tracer = InMemoryTracer()
            let key = TestRedis.prefix() + "secret-phone-9841000000"
            try await Self.withTracedClient(tracer) { client in
                // when
                try await tracer.withSpan("request") { _ in
                    _ = try await client.send("SET", key, "+9779841000000")
                }
            }
            // then
            let spans = tracer.finishedSpans
            let request = try #require(spans.first { $0.operationName == "request" })
            let command = try #require(spans.first { $0.operationName == "SET" })
            #expect(spans.count == 2)
            #expect(command.kind == .client)
            #expect(command.parentSpanID == request.spanID)
            #expect(command.attributes["db.system.name"]?.toSpanAttribute() == "redis")
            #expect(command.attributes["db.operation.name"]?.toSpanAttribute() == "SET")
            var texts: [String] = []
            command.attributes.forEach { _, value in texts.append("\(value)") }
            #expect(!texts.contains { $0.contains("9841000000") })
        }

        @Test("a pipeline is one span with its size and its commands' names")
        func pipelineSpan() async throws {
            // given
            let tracer = InMemoryTracer()
            let key = TestRedis.prefix() + "counter"
            try await Self.withTracedClient(tracer) { client in
                // when
                try await tracer.withSpan("request") { _ in
                    _ = try await client.pipeline([
                        RedisCommand("INCR", key), RedisCommand("INCR", key), RedisCommand("EXPIRE", key, 60),
                    ])
                }
            }
            // then
            let pipeline = try #require(tracer.finishedSpans.first { $0.operationName == "PIPELINE" })
            #expect(pipeline.attributes["db.operation.batch.size"]?.toSpanAttribute() == 3)
            #expect(pipeline.attributes["db.operation.name"]?.toSpanAttribute() == "PIPELINE INCR EXPIRE")
        }

        @Test("a transaction the server refuses is one MULTI span, marked failed")
        func refusedTransaction() async throws {
            // given
            let tracer = InMemoryTracer()
            let key = TestRedis.prefix() + "never-set"
            try await Self.withTracedClient(tracer) { client in
                // when
                await #expect(throws: RedisError.self) {
                    try await tracer.withSpan("request") { _ in
                        _ = try await client.transaction([RedisCommand("SET", key, "v"), RedisCommand("NOSUCHCOMMAND")])
                    }
                }
            }
            // then
            let multi = try #require(tracer.finishedSpans.first { $0.operationName == "MULTI" })
            #expect(multi.status?.code == .error)
            #expect(multi.attributes["db.operation.name"]?.toSpanAttribute() == "MULTI SET NOSUCHCOMMAND")
            #expect(multi.attributes["db.operation.batch.size"]?.toSpanAttribute() == 2)
        }

        @Test("a command sent outside any span makes none")
        func backgroundCommand() async throws {
            // given
            let tracer = InMemoryTracer()
            try await Self.withTracedClient(tracer) { client in
                // when
                try await client.ping()
            }
            // then
            #expect(tracer.finishedSpans.isEmpty)
        }
    }
}
