package import Metrics
import Synchronization

/// One metric a target records: its Prometheus name, what it measures (the `# HELP` text), its
/// kind and the labels it may carry.
///
/// Each target declares its metrics together in one enum (`MessagingMetrics`, `GatewayMetrics`, …)
/// and records through these definitions, so the names, their help and their label sets are read in
/// one place, and `/metrics` explains every series it shows. Label values must come from small
/// fixed sets (a queue, a route template, an asset code), never an id, an email or a phone.
package struct MetricDefinition: Sendable, Hashable {
    /// What sort of series the metric is.
    package enum Kind: Sendable, Hashable {
        /// Only goes up (`…_total`).
        case counter
        /// A value that goes up and down.
        case gauge
        /// Durations, bucketed in seconds (`…_seconds`).
        case durationHistogram(buckets: [Duration])
    }

    /// The Prometheus family name, `rahat_<area>_<thing>_<unit>`.
    package let name: String
    /// The `# HELP` text: what the series answers.
    package let help: String
    package let kind: Kind
    /// The label names the metric is recorded with, in order.
    package let labels: [String]

    package init(_ name: String, kind: Kind, labels: [String] = [], help: String) {
        self.name = name
        self.help = help
        self.kind = kind
        self.labels = labels
    }

    /// A counter (`name` ends in `_total`).
    package static func counter(_ name: String, labels: [String] = [], help: String) -> Self {
        Self(name, kind: .counter, labels: labels, help: help)
    }

    /// A gauge.
    package static func gauge(_ name: String, labels: [String] = [], help: String) -> Self {
        Self(name, kind: .gauge, labels: labels, help: help)
    }

    /// A histogram of durations in seconds, with `buckets` (``MetricDefinition/latencyBuckets`` by default).
    package static func durations(
        _ name: String, labels: [String] = [], buckets: [Duration] = latencyBuckets, help: String
    ) -> Self {
        Self(name, kind: .durationHistogram(buckets: buckets), labels: labels, help: help)
    }

    /// Request and call latencies: 5 ms to 10 s.
    package static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
    ]

    /// Background work (a job's wait or run, an event's handling): 10 ms to 30 minutes.
    package static let backgroundBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
        .seconds(15), .seconds(30), .seconds(60), .seconds(300), .seconds(900), .seconds(1_800),
    ]

    /// The counter for one combination of label values, given in the order of ``labels``.
    package func counter(_ values: String...) -> Counter {
        series(.counter, values) { Counter(label: $0, dimensions: $1) }
    }

    /// The counter for one combination of label values that grows by fractions (CPU seconds).
    package func floatingPointCounter(_ values: String...) -> FloatingPointCounter {
        series(.floatingPointCounter, values) { FloatingPointCounter(label: $0, dimensions: $1) }
    }

    /// The gauge for one combination of label values, given in the order of ``labels``.
    package func gauge(_ values: String...) -> Gauge {
        series(.gauge, values) { Gauge(label: $0, dimensions: $1) }
    }

    /// A gauge that is raised and lowered (things in progress) for one combination of label values.
    package func meter(_ values: String...) -> Meter {
        series(.meter, values) { Meter(label: $0, dimensions: $1) }
    }

    /// The duration histogram for one combination of label values, given in the order of ``labels``.
    package func timer(_ values: String...) -> Metrics.Timer {
        series(.timer, values) { Metrics.Timer(label: $0, dimensions: $1, preferredDisplayUnit: .seconds) }
    }

    /// The series for `values`, made once: these are asked for on every request, call and event,
    /// and making one goes through the catalog's lock, the metrics system's and the backend's.
    private func series<Handler: AnyObject & Sendable>(
        _ kind: SeriesCache.Kind, _ values: [String], make: (String, [(String, String)]) -> Handler
    ) -> Handler {
        SeriesCache.series(name: name, kind: kind, values: values) {
            make(registered(), dimensions(values))
        }
    }

    private func dimensions(_ values: [String]) -> [(String, String)] {
        assert(values.count == labels.count, "\(name) takes the labels \(labels), given \(values.count) value(s)")
        return Array(zip(labels, values))
    }

    /// Records the definition before its first series is made, so the backend finds the help
    /// text and buckets when it creates the family.
    private func registered() -> String {
        MetricCatalog.register(self)
        return name
    }
}

/// Every metric definition a process has used, by name: where the metrics backend finds a
/// family's help text and buckets.
package enum MetricCatalog {
    private static let definitions = Mutex<[String: MetricDefinition]>([:])

    /// Records `definition` (and any others) so the backend can describe them.
    package static func register(_ definition: MetricDefinition...) {
        register(definition)
    }

    /// Records `definitions` so the backend can describe them.
    package static func register(_ definitions: [MetricDefinition]) {
        Self.definitions.withLock { known in
            for definition in definitions where known[definition.name] == nil {
                known[definition.name] = definition
            }
        }
    }

    /// Forgets the series made so far, which recorded to the metrics backend that was installed
    /// then: call after installing another (`MetricsSystem.bootstrap`).
    package static func backendInstalled() {
        SeriesCache.forgetAll()
    }

    /// The definition recorded under `name`, if any.
    package static func definition(named name: String) -> MetricDefinition? {
        definitions.withLock { $0[name] }
    }
}

/// The series handed out by ``MetricDefinition``, by name, kind and label values, until the metrics
/// backend is installed (``MetricCatalog/backendInstalled()``): series made before it record nowhere.
enum SeriesCache {
    enum Kind: UInt8 {
        case counter, floatingPointCounter, gauge, meter, timer
    }

    private struct Key: Hashable {
        let name: String
        let kind: Kind
        let values: [String]
    }

    private struct State {
        var generation = 0
        var series: [Key: (generation: Int, handler: any AnyObject & Sendable)] = [:]
    }

    private static let state = Mutex(State())

    static func series<Handler: AnyObject & Sendable>(
        name: String, kind: Kind, values: [String], make: () -> Handler
    ) -> Handler {
        let key = Key(name: name, kind: kind, values: values)
        let (generation, cached) = state.withLock { state in
            (state.generation, state.series[key])
        }
        if let cached, cached.generation == generation, let handler = cached.handler as? Handler {
            return handler
        }
        // Made outside the lock: the metrics system and its backend take locks of their own.
        let handler = make()
        state.withLock { state in
            // One made before a backend was installed is handed out once more, never kept.
            if state.generation == generation { state.series[key] = (generation, handler) }
        }
        return handler
    }

    static func forgetAll() {
        state.withLock { state in
            state.generation += 1
            state.series.removeAll()
        }
    }
}
