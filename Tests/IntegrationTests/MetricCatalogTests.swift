import Foundation
import MetricCatalog
import RahatApp
import Testing

/// The metric catalog the code declares, and the shipped assets that must agree with it.
@Suite("Metric catalog")
struct MetricCatalogTests {
    /// The repository's root, found from this file's place in it.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test("every metric follows the naming rules: rahat_<area>_<thing>_<unit>, counters in _total, HELP text")
    func names() {
        let catalog = Platform.metricCatalog
        #expect(Set(catalog.map(\.name)).count == catalog.count, "a name is declared twice")
        for definition in catalog {
            let standard = definition.name.hasPrefix("process_")
            #expect(
                standard || definition.name.wholeMatch(of: /rahat_[a-z]+(_[a-z0-9]+)+/) != nil,
                "\(definition.name) is not rahat_<area>_<thing>_<unit>")
            #expect(!definition.help.isEmpty, "\(definition.name) has no help text")
            switch definition.kind {
            case .counter: #expect(definition.name.hasSuffix("_total"), "counter \(definition.name) must end in _total")
            case .durationHistogram:
                #expect(definition.name.hasSuffix("_seconds"), "\(definition.name) times in seconds")
            case .gauge: #expect(!definition.name.hasSuffix("_total"), "gauge \(definition.name) reads as a counter")
            }
            let unbounded = Set(definition.labels).intersection(["id", "user", "email", "phone", "path", "name_id"])
            #expect(unbounded.isEmpty, "\(definition.name) has a label that would take every value: \(unbounded)")
        }
    }

    @Test("deploy/observability/metrics.txt, which the dashboards and rules are checked against, is the catalog")
    func shippedList() throws {
        let file = Self.repository.appendingPathComponent("deploy/observability/metrics.txt")
        let shipped = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(
            shipped == Platform.metricCatalog.map(\.name),
            "regenerate it: swift run rahat metrics --names > deploy/observability/metrics.txt")
    }
}
