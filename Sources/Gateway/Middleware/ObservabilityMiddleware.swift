import HTTPTypes
import Hummingbird
import MetricCatalog
import Metrics
import OTelSemanticConventions
import ServerKit
import Tracing

/// The outermost middleware: a server span for each request and the RED metrics of its route.
///
/// The span is named by the route template (`POST /v1/disbursements/{id}/approve`), never the
/// path with its ids, and records no header, query or body: requests carry personal data. It
/// continues a caller's W3C `traceparent` only when the gateway is told to trust it
/// (`RAHAT_TRUST_TRACEPARENT`): otherwise anyone could attach their spans to another trace.
/// Timing ends when the response's head is ready, so a long-lived event stream does not count as
/// a slow request.
struct ObservabilityMiddleware<Context: RequestContext>: RouterMiddleware {
    let trustTraceparent: Bool
    private let tracer: (any Tracer)?

    /// `tracer` is the process's (`InstrumentationSystem.tracer`) unless a test gives one.
    init(trustTraceparent: Bool, tracer: (any Tracer)? = nil) {
        self.trustTraceparent = trustTraceparent
        self.tracer = tracer
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let tracer = self.tracer ?? InstrumentationSystem.tracer
        var parent = ServiceContext.topLevel
        let path = request.uri.path
        if path == "/health" || path == "/readiness" || path == "/metrics" {
            // Load balancers, orchestrators and Prometheus ask these every few seconds; traced,
            // they would crowd out the requests people make, and readiness's calls to every service.
            parent = TraceContext.unsampled(using: tracer)
        } else if trustTraceparent {
            tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        }
        let method = request.method.rawValue
        let span = tracer.startSpan(method, context: parent, ofKind: .server)
        span.attributes[OTelAttribute.http.request.method] = method
        let started = ContinuousClock.now
        GatewayMetrics.activeRequests.increment(by: 1)
        defer { GatewayMetrics.activeRequests.decrement(by: 1) }

        func finish(status: HTTPResponse.Status?, error: (any Error)?) {
            // Hummingbird names a request no route took `NotFound`; templates start with `/`.
            let template = context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil }
            let route = template ?? "unmatched"
            span.operationName = "\(method) \(route)"
            if let template { span.attributes[OTelAttribute.http.route] = template }
            let code = status?.code ?? 500
            span.attributes[OTelAttribute.http.response.statusCode] = code
            if let error { span.recordError(error) }
            if code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            GatewayMetrics.requestDuration.timer(route, method, "\(code / 100)xx").record(
                duration: ContinuousClock.now - started)
            span.end()
        }

        do {
            let response = try await ServiceContext.$current.withValue(span.context) {
                try await next(request, context)
            }
            finish(status: response.status, error: nil)
            return response
        } catch {
            finish(status: (error as? any HTTPResponseError)?.status, error: error)
            throw error
        }
    }
}

/// Reads trace context from request headers.
private struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}
