package import MetricCatalog
import Metrics
import ServerKit

/// The metrics the gateway records: every request's route, and the rate limiter's decisions.
package enum GatewayMetrics {
    /// Each request by route template, method and status class: the gateway's rate, errors and latency.
    package static let requestDuration = MetricDefinition.durations(
        "rahat_http_server_request_duration_seconds", labels: ["route", "method", "status_class"],
        help: "Time to answer an HTTP request (to the response head), by route template, method and status class.")
    /// Requests being handled now.
    package static let activeRequestsGauge = MetricDefinition.gauge(
        "rahat_http_server_active_requests", help: "HTTP requests in progress.")
    /// Each rate-limit decision by route class.
    package static let rateLimitDecisions = MetricDefinition.counter(
        "rahat_rate_limit_decisions_total", labels: ["class", "result"],
        help: "Rate-limit decisions by route class and result (allowed or limited).")
    /// Decisions taken without the shared counter store (Redis unreachable), by the policy applied.
    package static let rateLimitFallbacks = MetricDefinition.counter(
        "rahat_rate_limit_fallbacks_total", labels: ["policy"],
        help: "Rate-limit decisions taken without the counter store, by the policy applied (open or closed).")

    /// Requests refused for want of room (``AdmissionMiddleware``), by why: the wait queue was
    /// full, or no place came free in time.
    package static let admissionRefusals = MetricDefinition.counter(
        "rahat_admission_refusals_total", labels: ["reason"],
        help: "API requests refused with 503 because the gateway was at its limit, by reason (queue_full or waited).")

    /// Every metric this target declares.
    package static let all = [
        requestDuration, activeRequestsGauge, rateLimitDecisions, rateLimitFallbacks, admissionRefusals,
    ]

    /// The requests-in-progress gauge, raised and lowered around each request.
    static let activeRequests = activeRequestsGauge.meter()
}
