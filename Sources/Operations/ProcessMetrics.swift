import Foundation
package import MetricCatalog
import Metrics
import ServerKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The standard process collector's series (`process_cpu_seconds_total`, `process_resident_memory_bytes`, …),
/// read from `/proc/self` at each scrape so every Rahat process answers the same saturation
/// questions under the names dashboards already expect.
package enum ProcessMetrics {
    static let cpu = MetricDefinition.counter(
        "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.")
    static let resident = MetricDefinition.gauge(
        "process_resident_memory_bytes", help: "Resident memory size in bytes.")
    static let virtual = MetricDefinition.gauge(
        "process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
    static let openFDs = MetricDefinition.gauge("process_open_fds", help: "Number of open file descriptors.")
    static let maxFDs = MetricDefinition.gauge(
        "process_max_fds", help: "Maximum number of open file descriptors.")
    static let startTime = MetricDefinition.gauge(
        "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.")

    /// The CPU time already added to the counter, which only takes increments.
    private static let reportedCPU = Mutex<Double>(0)

    /// Every series this collector writes.
    package static let all = [cpu, resident, virtual, openFDs, maxFDs, startTime]

    /// Reads the figures now; a field that cannot be read (not Linux, `/proc` hidden) is left as it was.
    static func update() {
        #if os(Linux)
        if let stat = ProcessStat.read() {
            let added = reportedCPU.withLock { reported in
                defer { reported = max(reported, stat.cpuSeconds) }
                return max(stat.cpuSeconds - reported, 0)
            }
            cpu.floatingPointCounter().increment(by: added)
            resident.gauge().record(stat.residentBytes)
            virtual.gauge().record(stat.virtualBytes)
            if let started = stat.startTime { startTime.gauge().record(started) }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            // The directory listing itself holds one descriptor while it is read.
            openFDs.gauge().record(max(entries.count - 1, 0))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            maxFDs.gauge().record(Double(limit.rlim_cur))
        }
        #endif
    }
}

#if os(Linux)
/// The fields of `/proc/self/stat` the collector reports (proc(5)).
struct ProcessStat {
    var cpuSeconds: Double
    var virtualBytes: Double
    var residentBytes: Double
    var startTime: Double?

    static func read() -> ProcessStat? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8) else { return nil }
        return parse(text, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))), pageSize: Double(getpagesize()))
    }

    /// Parses a stat line. The command name (field 2) may hold spaces and parentheses, so the
    /// fields are counted from its last `)`.
    static func parse(_ text: String, ticksPerSecond: Double, pageSize: Double) -> ProcessStat? {
        guard let close = text.lastIndex(of: ")"), ticksPerSecond > 0 else { return nil }
        // Field 3 (state) onwards.
        let fields = text[text.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double? {
            let index = number - 3
            return fields.indices.contains(index) ? Double(fields[index]) : nil
        }
        guard let utime = field(14), let stime = field(15), let started = field(22), let vsize = field(23),
            let rss = field(24)
        else { return nil }
        return ProcessStat(
            cpuSeconds: (utime + stime) / ticksPerSecond,
            virtualBytes: vsize,
            residentBytes: rss * pageSize,
            startTime: bootTime.map { $0 + started / ticksPerSecond }
        )
    }

    /// The `btime` line of `/proc/stat`: when the machine booted, in seconds since the epoch.
    /// Read once, not at every scrape: it does not change while the process runs.
    private static let bootTime = readBootTime()

    private static func readBootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
#endif
