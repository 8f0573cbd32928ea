import ServerKit
import Synchronization
import Testing

/// `/readiness` is public and never rate limited, so its cost must not grow with its callers.
extension ReadinessTests {
    @Test("a burst of callers shares one probe of each backend; a report older than its age is made again")
    func probesOncePerAge() async throws {
        // given
        let probes = Atomic<Int>(0)
        let readiness = Readiness(
            checks: [
                ReadinessCheck(name: "database") {
                    probes.add(1, ordering: .relaxed)
                    try await Task.sleep(for: .milliseconds(50))
                }
            ],
            maxAge: .milliseconds(300))
        // when
        let reports = await withTaskGroup(of: ReadinessReport.self) { group in
            for _ in 0..<200 { group.addTask { await readiness.run() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let afterBurst = probes.load(ordering: .relaxed)
        _ = await readiness.run()
        let stillFresh = probes.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(400))
        _ = await readiness.run()
        // then
        #expect(reports.allSatisfy { $0.isReady })
        #expect(afterBurst == 1)
        #expect(stillFresh == 1)
        #expect(probes.load(ordering: .relaxed) == 2)
    }
}
