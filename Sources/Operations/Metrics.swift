import Metrics
package import Prometheus
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
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: created))
            current = created
            return created
        }
    }

    /// The Prometheus text exposition of everything recorded so far.
    package static func exposition() -> String {
        bootstrap().emitToString()
    }
}
