/// Reading samples from a Prometheus text exposition (`/metrics`, `RahatMetrics.exposition()`).
package enum MetricsPage {
    /// The value of `sample` — a metric's name with its labels as the page writes them, e.g.
    /// `rahat_outbox_relayed_total{service="core"}` — or `nil` when the page has none.
    package static func value(of sample: String, in page: String) -> Double? {
        for line in page.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1))
        }
        return nil
    }
}
