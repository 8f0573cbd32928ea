package import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A throw-away HAProxy running a configuration the test rendered: the internal gateway's tests
/// drive the real engine, not an imitation of it.
package final class TestHAProxy: Sendable {
    /// Path of haproxy: `RAHAT_TEST_HAPROXY`, else the first on PATH.
    package static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let configured = environment["RAHAT_TEST_HAPROXY"], !configured.isEmpty { return configured }
        for directory in (environment["PATH"] ?? "/usr/sbin:/usr/bin").split(separator: ":") + ["/usr/sbin"] {
            let candidate = "\(directory)/haproxy"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Tests run where haproxy is installed (`scripts/test` installs it); under CI they run
    /// regardless, so that a missing haproxy fails loudly instead of skipping.
    package static let isEnabled: Bool = executable != nil || ProcessInfo.processInfo.environment["CI"] != nil

    /// Holds the configuration and HAProxy's log.
    package let directory: URL
    private let process: Mutex<Process?>

    private init(directory: URL, process: Process) {
        self.directory = directory
        self.process = Mutex(process)
    }

    /// What HAProxy wrote to its log (its requests and refusals) so far.
    package var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("haproxy.log"), encoding: .utf8)) ?? ""
    }

    /// Checks `configuration` with `haproxy -c`; nil when it is valid, else HAProxy's complaint.
    package static func problems(in configuration: String) throws -> String? {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("haproxy.cfg")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try requireExecutable())
        process.arguments = ["-c", "-f", file.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : text
    }

    /// Starts HAProxy on `configuration` and waits until every port in `ports` accepts connections.
    package static func start(_ configuration: String, listeningOn ports: [Int]) async throws -> TestHAProxy {
        let directory = try makeDirectory()
        let file = directory.appendingPathComponent("haproxy.cfg")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        let logPath = directory.appendingPathComponent("haproxy.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try requireExecutable())
        // -db: stay in the foreground, so the test owns the process.
        process.arguments = ["-db", "-f", file.path]
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        TestRedisServer.killWhenTestProcessExits(process.processIdentifier)
        let proxy = TestHAProxy(directory: directory, process: process)
        let deadline = ContinuousClock.now + .seconds(10)
        var waiting = ports
        while !waiting.isEmpty {
            guard process.isRunning else {
                throw TestServerError("haproxy exited during start-up: \(proxy.log)")
            }
            guard ContinuousClock.now < deadline else {
                proxy.stop()
                throw TestServerError("haproxy did not listen on \(waiting)")
            }
            if await TestRedisServer.acceptsConnections(port: waiting[0]) {
                waiting.removeFirst()
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        return proxy
    }

    /// Stops HAProxy at once; the directory stays for ``remove()``.
    package func stop() {
        process.withLock { process in
            if let process, process.isRunning { process.terminate() }
            process = nil
        }
    }

    /// Stops HAProxy and deletes its directory.
    package func remove() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func makeDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("rahat-haproxy-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    private static func requireExecutable() throws -> String {
        guard let executable else { throw TestServerError("haproxy is not installed (scripts/test installs it)") }
        return executable
    }
}
