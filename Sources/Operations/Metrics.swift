import MetricCatalog
import Metrics
package import Prometheus
import ServerKit
import Synchronization

/// Process-wide metrics: swift-metrics backed by a Prometheus registry, exposed at `/metrics`.
package enum RahatMetrics {
    private static let registry = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Installs the Prometheus backend once per process and returns its registry; later calls
    /// (tests build many applications in one process) return the same registry.
    package static func bootstrap() -> PrometheusCollectorRegistry {
        registry.withLock { current in
            if let current { return current }
            let created = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(DescribedMetricsFactory(registry: created))
            MetricCatalog.backendInstalled()
            current = created
            return created
        }
    }

    /// Records which version runs as which service (`rahat_build_info`).
    package static func recordBuild(version: String, service: String) {
        _ = bootstrap()
        ServerKitMetrics.buildInfo.gauge(version, service).record(1)
    }

    /// The Prometheus text exposition of everything recorded so far, with the process's own
    /// CPU, memory and descriptor figures read at this moment.
    package static func exposition() -> String {
        let registry = bootstrap()
        ProcessMetrics.update()
        return registry.emitToString()
    }
}

/// swift-metrics on the Prometheus registry, with each family's `# HELP` and buckets taken from
/// its ``MetricDefinition``.
///
/// The registry refuses two help texts for one name, so a family's help comes from one place: the
/// catalog, which every definition fills before it makes its first series.
struct DescribedMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    private let fallback: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        var fallback = PrometheusMetricsFactory(registry: registry)
        fallback.defaultDurationHistogramBuckets = MetricDefinition.latencyBuckets
        self.fallback = fallback
    }

    /// The family `name`, described by its definition (the whole name goes in `metricName`).
    private func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: name, unitName: "", helpText: MetricCatalog.definition(named: name)?.help ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return fallback.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let definition = MetricCatalog.definition(named: label),
            case .durationHistogram(let buckets) = definition.kind
        else {
            return fallback.makeTimer(label: label, dimensions: dimensions)
        }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { fallback.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        fallback.destroyFloatingPointCounter(handler)
    }
    func destroyRecorder(_ handler: any RecorderHandler) { fallback.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { fallback.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { fallback.destroyTimer(handler) }
}
