import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryTracing
import TestInfrastructure
import TestSupport
import Testing
import Tracing

@testable import Gateway

extension GatewayTests {
    /// What the gateway tells operators about each request: a span named by its route, and the
    /// route's rate, errors and latency on `/metrics`.
    @Suite("Observability")
    struct ObservabilityTests {
        /// A router with only the observability middleware, traced by `tracer`.
        static func router(tracer: InMemoryTracer, trustTraceparent: Bool) -> Router<BasicRequestContext> {
            let router = Router()
            router.middlewares.add(ObservabilityMiddleware(trustTraceparent: trustTraceparent, tracer: tracer))
            router.get("/v1/things/{id}") { _, _ in "found" }
            router.post("/v1/things/{id}/break") { _, _ -> String in throw HTTPError(.serviceUnavailable) }
            return router
        }

        @Test("a request's span is named by its route template, never its path, and records its status")
        func spanNamedByRoute() async throws {
            // given
            let tracer = InMemoryTracer()
            let app = Application(router: Self.router(tracer: tracer, trustTraceparent: false))
            try await app.test(.router) { client in
                // when
                _ = try await client.execute(uri: "/v1/things/6f1c2a9e-0000-4000-8000-000000000001", method: .get)
                _ = try await client.execute(uri: "/v1/things/abc/break", method: .post)
                _ = try await client.execute(uri: "/nowhere", method: .get)
            }
            // then
            let spans = tracer.finishedSpans
            #expect(
                spans.map(\.operationName) == ["GET /v1/things/{id}", "POST /v1/things/{id}/break", "GET unmatched"])
            #expect(spans.allSatisfy { $0.kind == .server })
            let found = try #require(spans.first)
            #expect(found.attributes["http.route"]?.toSpanAttribute() == "/v1/things/{id}")
            #expect(found.attributes["http.request.method"]?.toSpanAttribute() == "GET")
            #expect(found.attributes["http.response.status_code"]?.toSpanAttribute() == 200)
            #expect(found.status == nil)
            #expect(spans[1].attributes["http.response.status_code"]?.toSpanAttribute() == 503)
            #expect(spans[1].status?.code == .error)
            #expect(spans[2].attributes["http.route"] == nil)
            let everything = spans.map { "\($0.operationName) \($0.attributes)" }.joined()
            #expect(!everything.contains("6f1c2a9e"), "ids stay out of span names and attributes")
        }

        @Test("a caller's trace context is continued only when the gateway is told to trust it")
        func traceparentTrust() async throws {
            // given a caller that names its own trace
            let caller = [InMemoryTracer.traceIDKey: "caller-trace", InMemoryTracer.spanIDKey: "caller-span"]
            var spans: [Bool: FinishedInMemorySpan] = [:]
            for trusted in [false, true] {
                let tracer = InMemoryTracer()
                let app = Application(router: Self.router(tracer: tracer, trustTraceparent: trusted))
                try await app.test(.router) { client in
                    var headers = HTTPFields()
                    for (name, value) in caller { headers[try #require(HTTPField.Name(name))] = value }
                    // when
                    _ = try await client.execute(uri: "/v1/things/1", method: .get, headers: headers)
                }
                spans[trusted] = tracer.finishedSpans.first
            }
            // then
            let untrusted = try #require(spans[false])
            let trusted = try #require(spans[true])
            #expect(untrusted.traceID != "caller-trace")
            #expect(untrusted.parentSpanID == nil)
            #expect(trusted.traceID == "caller-trace")
            #expect(trusted.parentSpanID == "caller-span")
        }

        @Test("/metrics explains every series it shows, times each route, and labels nothing with an id")
        func metricsPage() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                // given
                let tokens = try await client.login()
                let created = try await client.send(
                    .post, "/v1/beneficiaries", json: ["name": "Maya Gurung", "gender": "female"],
                    bearer: tokens.access)
                let id = try #require(try created.json["id"] as? String)
                _ = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)

                // when
                let page = String(decoding: try await client.send(.get, "/metrics").body, as: UTF8.self)

                // then
                let lines = page.split(separator: "\n")
                let families = Set(
                    lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
                let described = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
                #expect(!families.isEmpty)
                #expect(families.subtracting(described).isEmpty, "every family has HELP")
                let route = #"route="/v1/beneficiaries/{id}",method="GET",status_class="2xx""#
                #expect(
                    (MetricsPage.value(of: "rahat_http_server_request_duration_seconds_count{\(route)}", in: page) ?? 0)
                        >= 1)
                #expect(page.contains(#"rahat_grpc_server_call_duration_seconds_count{rpc_service="rahat.core.v1."#))
                #expect((MetricsPage.value(of: "process_resident_memory_bytes", in: page) ?? 0) > 0)
                #expect(!page.contains(id), "no series is labelled with a beneficiary's id")
                #expect(!page.contains("Maya"))
            }
        }
    }
}
