package import MetricCatalog

/// The metrics the shared server infrastructure records: gRPC calls on both sides, readiness,
/// internal certificates and the build.
package enum ServerKitMetrics {
    /// Each call a gRPC server handled: rate, errors and latency per method.
    package static let grpcServerCallDuration = MetricDefinition.durations(
        "rahat_grpc_server_call_duration_seconds", labels: ["rpc_service", "rpc_method", "code"],
        help: "Time to handle a gRPC call, by service, method and status code.")
    /// Each call a gRPC client made, as the caller saw it (network and queueing included).
    package static let grpcClientCallDuration = MetricDefinition.durations(
        "rahat_grpc_client_call_duration_seconds", labels: ["rpc_service", "rpc_method", "code"],
        help: "Time for a gRPC call made to another service, by service, method and status code.")
    /// Whether the process's last readiness probe passed.
    package static let readinessReady = MetricDefinition.gauge(
        "rahat_readiness_ready", help: "1 when the last readiness probe passed, 0 when it did not.")
    /// How often readiness changed: a flapping dependency shows here.
    package static let readinessChanges = MetricDefinition.counter(
        "rahat_readiness_changes_total", help: "Changes between ready and not ready.")
    /// When each internal TLS certificate this process holds stops being valid.
    package static let certificateExpiry = MetricDefinition.gauge(
        "rahat_tls_certificate_expiry_timestamp_seconds", labels: ["role"],
        help:
            "When an internal TLS certificate expires (unix seconds), by role: certificate (this process's) or authority."
    )
    /// Which build runs, as a constant 1 labelled with it.
    package static let buildInfo = MetricDefinition.gauge(
        "rahat_build_info", labels: ["version", "service"],
        help: "Always 1; the labels say which version runs and which service (or all of them) the process is.")

    /// Every metric this target declares.
    package static let all = [
        grpcServerCallDuration, grpcClientCallDuration, readinessReady, readinessChanges, certificateExpiry,
        buildInfo,
    ]
}
