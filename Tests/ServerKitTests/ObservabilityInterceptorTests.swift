import GRPCCore
import GRPCInProcessTransport
import InMemoryTracing
import ServerKit
import SwiftProtobuf
import Testing
import Tracing

/// The gRPC interceptors that trace every call: the client's span travels in the call's metadata
/// and the server's continues it.
@Suite("gRPC tracing")
struct ObservabilityInterceptorTests {
    /// Runs a health server and a client over the in-process transport, both traced by `tracer`.
    static func withHealth(
        tracer: InMemoryTracer,
        _ body: (Grpc_Health_V1_Health.Client<InProcessTransport.Client>) async throws -> Void
    ) async throws {
        let health = HealthService()
        health.setStatus(.serving)
        let transport = InProcessTransport()
        let server = GRPCServer(
            transport: transport.server, services: [health.rpcService],
            interceptors: [ServerObservabilityInterceptor(tracer: tracer)])
        let client = GRPCClient(
            transport: transport.client,
            interceptors: [ClientObservabilityInterceptor(serverAddress: "auth.internal", tracer: tracer)])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            group.addTask { try await client.runConnections() }
            defer {
                client.beginGracefulShutdown()
                server.beginGracefulShutdown()
            }
            try await body(Grpc_Health_V1_Health.Client(wrapping: client))
        }
    }

    @Test("a call makes a client span and a server span that continues it, named by the method")
    func serverContinuesClient() async throws {
        // given
        let tracer = InMemoryTracer()
        try await Self.withHealth(tracer: tracer) { health in
            // when
            _ = try await health.check(.with { $0.service = "" })
        }
        // then
        let spans = tracer.finishedSpans
        let client = try #require(spans.first { $0.kind == .client })
        let server = try #require(spans.first { $0.kind == .server })
        #expect(spans.count == 2)
        #expect(client.operationName == "grpc.health.v1.Health/Check")
        #expect(server.operationName == "grpc.health.v1.Health/Check")
        #expect(server.traceID == client.traceID)
        #expect(server.parentSpanID == client.spanID)
        #expect(client.attributes["rpc.system.name"]?.toSpanAttribute() == "grpc")
        #expect(client.attributes["server.address"]?.toSpanAttribute() == "auth.internal")
        #expect(server.attributes["rpc.response.status_code"]?.toSpanAttribute() == "OK")
        #expect(server.status == nil)
    }

    @Test("a caller's mistake marks the client span failed, not the server's")
    func callerErrors() async throws {
        // given
        let tracer = InMemoryTracer()
        try await Self.withHealth(tracer: tracer) { health in
            // when
            await #expect(throws: RPCError.self) {
                _ = try await health.check(.with { $0.service = "no.such.Service" })
            }
        }
        // then
        let spans = tracer.finishedSpans
        let client = try #require(spans.first { $0.kind == .client })
        let server = try #require(spans.first { $0.kind == .server })
        #expect(server.attributes["rpc.response.status_code"]?.toSpanAttribute() == "NOT_FOUND")
        #expect(client.attributes["rpc.response.status_code"]?.toSpanAttribute() == "NOT_FOUND")
        #expect(server.status == nil)
        #expect(client.status?.code == .error)
    }

    @Test("a call made while another span is current joins its trace")
    func joinsCurrentTrace() async throws {
        // given
        let tracer = InMemoryTracer()
        try await Self.withHealth(tracer: tracer) { health in
            // when
            try await tracer.withSpan("approve disbursement") { _ in
                _ = try await health.check(.with { $0.service = "" })
            }
        }
        // then
        let spans = tracer.finishedSpans
        let outer = try #require(spans.first { $0.operationName == "approve disbursement" })
        let client = try #require(spans.first { $0.kind == .client })
        #expect(client.traceID == outer.traceID)
        #expect(client.parentSpanID == outer.spanID)
    }
}
