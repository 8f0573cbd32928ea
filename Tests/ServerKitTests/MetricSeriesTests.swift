import MetricCatalog
import Metrics
import Operations
import Testing

/// The series a definition hands out are made once per label values, and again after a backend is installed.
@Suite("Metric series", .serialized)
struct MetricSeriesTests {
    static let definition = MetricDefinition.counter(
        "rahat_test_series_total", labels: ["kind"], help: "Counted by the metric series tests.")

    @Test("the same label values give the same series, which records to the installed backend")
    func reused() {
        _ = RahatMetrics.bootstrap()
        let first = Self.definition.counter("reused")
        #expect(first === Self.definition.counter("reused"))
        #expect(first !== Self.definition.counter("other"))
        first.increment(by: 2)
        Self.definition.counter("reused").increment(by: 3)
        #expect(RahatMetrics.exposition().contains(#"rahat_test_series_total{kind="reused"} 5"#))
    }

    @Test("installing a backend forgets the series made before it, so none keeps recording nowhere")
    func forgottenOnInstall() {
        _ = RahatMetrics.bootstrap()
        let before = Self.definition.counter("installed")
        MetricCatalog.backendInstalled()
        let after = Self.definition.counter("installed")
        #expect(before !== after)
        #expect(after === Self.definition.counter("installed"))
        after.increment()
        #expect(RahatMetrics.exposition().contains(#"rahat_test_series_total{kind="installed"} 1"#))
    }
}
