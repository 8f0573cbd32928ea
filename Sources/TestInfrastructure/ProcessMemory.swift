import Foundation

/// This process's memory as the kernel counts it, for tests that show a path does not buffer
/// what a client sends.
package enum ProcessMemory {
    /// Resident set size in bytes (`VmRSS` of `/proc/self/status`), or nil where there is none.
    package static func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }

    /// Runs `body` while sampling the resident set every few milliseconds; returns its result and
    /// how far the resident set rose above where it started at its highest. Memory a path frees
    /// before it returns is still seen, which a reading taken afterwards would miss.
    package static func peakGrowth<T: Sendable>(
        during body: @Sendable () async throws -> T
    ) async throws -> (result: T, growth: Int) {
        let start = residentBytes() ?? 0
        let sampler = Task {
            var peak = start
            while !Task.isCancelled {
                peak = max(peak, residentBytes() ?? 0)
                try? await Task.sleep(for: .milliseconds(5))
            }
            return peak
        }
        let result: T
        do {
            result = try await body()
        } catch {
            sampler.cancel()
            throw error
        }
        sampler.cancel()
        return (result, await sampler.value - start)
    }
}
