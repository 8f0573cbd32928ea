package import Logging
import OTel
package import ServiceLifecycle
import Synchronization
import Tracing

/// Turns tracing on from the standard OpenTelemetry variables, and exports spans over OTLP.
///
/// Off unless an exporter is asked for: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, or `OTEL_TRACES_EXPORTER` naming one. The rest is
/// OpenTelemetry's own configuration (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
/// `OTEL_TRACES_SAMPLER`/`_ARG`, `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_BSP_*`, …). Spans are
/// queued and exported in batches by a background service, so a slow or absent collector drops
/// spans (the queue is bounded) and never holds up a request.
package enum RahatTracing {
    /// The sampler when `OTEL_TRACES_SAMPLER` is not set: keep a tenth of new traces, and follow
    /// the caller's decision when there is one, so a trace is kept whole or not at all.
    package static let defaultSamplingRatio = 0.1

    private static let bootstrapped = Mutex(false)

    /// Whether `environment` asks for traces to be exported.
    package static func isRequested(in environment: [String: String]) -> Bool {
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return false }
        if let exporter = environment["OTEL_TRACES_EXPORTER"]?.lowercased(), !exporter.isEmpty {
            return exporter != "none"
        }
        return ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].contains {
            !(environment[$0] ?? "").isEmpty
        }
    }

    /// Installs the OpenTelemetry tracer for `service` when `environment` asks for it, and returns
    /// the service that exports its spans (run it first in the process's group, so it stops last
    /// and sends what the others recorded while stopping); nil when tracing stays off.
    package static func bootstrap(
        service: String, version: String, environment: [String: String], logger: Logger
    ) throws -> (any Service)? {
        guard isRequested(in: environment) else { return nil }
        var configuration = OTel.Configuration.default
        // The embedded default is all of Rahat in one process: plainly `rahat`.
        configuration.serviceName = service == "rahat" ? "rahat" : "rahat-\(service)"
        configuration.resourceAttributes = ["service.namespace": "rahat", "service.version": version]
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        // Prometheus serves the metrics (`/metrics`); OTLP carries the traces only.
        configuration.metrics.enabled = false
        if let sampler = OTel.Configuration.TracesConfiguration.SamplerConfiguration.parentBasedTraceIDRatio(
            ratio: defaultSamplingRatio)
        {
            configuration.traces.sampler = sampler
        }
        // A collector that does not answer costs a batch, not the shutdown's whole grace period.
        configuration.traces.otlpExporter.timeout = .seconds(5)
        return try bootstrapped.withLock { done -> (any Service)? in
            // One tracer per process: a second platform in the same process (tests) shares it.
            guard !done else { return nil }
            let backend = try OTel.makeTracingBackend(configuration: configuration)
            InstrumentationSystem.bootstrap(backend.factory)
            done = true
            logger.info(
                "tracing on: spans exported over OTLP",
                metadata: ["otel_service_name": "\(environment["OTEL_SERVICE_NAME"] ?? configuration.serviceName)"])
            return backend.service
        }
    }
}
