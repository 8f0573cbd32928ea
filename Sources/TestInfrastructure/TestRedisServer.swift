package import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A throw-away redis-server process on a free loopback port, for tests that need a server of their own.
package final class TestRedisServer: Sendable {
    /// Options that need a dedicated server.
    package struct Options: Sendable {
        package var password: String?
        /// An ACL rule, one word per element, e.g. `["alice", "on", ">secret", "~*", "&*", "+@all"]`.
        package var aclUser: [String]?
        package var tls = false
        package var extraArguments: [String] = []

        package init(
            password: String? = nil, aclUser: [String]? = nil, tls: Bool = false, extraArguments: [String] = []
        ) {
            self.password = password
            self.aclUser = aclUser
            self.tls = tls
            self.extraArguments = extraArguments
        }
    }

    /// Where the certificate and key live for a TLS server.
    package struct TLSFiles: Sendable {
        package let certificate: String
        package let key: String
    }

    package let port: Int
    package let options: Options
    package let directory: URL
    package let tlsFiles: TLSFiles?
    private let process = Mutex<Process?>(nil)

    /// Path of redis-server: `RAHAT_TEST_REDIS_SERVER`, else the first on PATH.
    package static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let configured = environment["RAHAT_TEST_REDIS_SERVER"], !configured.isEmpty { return configured }
        for directory in (environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Tests run when a server can be started or a shared one is given; under CI they run regardless so that a
    /// missing redis-server fails loudly instead of skipping.
    package static let isEnabled: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return executable != nil || environment["RAHAT_TEST_REDIS_URL"] != nil || environment["CI"] != nil
    }()

    private init(port: Int, options: Options, directory: URL, tlsFiles: TLSFiles?) {
        self.port = port
        self.options = options
        self.directory = directory
        self.tlsFiles = tlsFiles
    }

    /// Starts a server and waits until it accepts connections.
    package static func start(_ options: Options = Options()) async throws -> TestRedisServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tlsFiles = options.tls ? try Self.makeCertificate(in: directory) : nil
        var lastError: (any Error)?
        // A free port can be taken by another parallel test between probing and binding, so retry.
        for _ in 0..<5 {
            let server = TestRedisServer(
                port: try await Self.freePort(),
                options: options,
                directory: directory,
                tlsFiles: tlsFiles
            )
            do {
                try await server.launch()
                return server
            } catch {
                lastError = error
                await server.stop()
            }
        }
        throw lastError ?? TestServerError("could not start redis-server")
    }

    /// The URL a client should use (`rediss://localhost` for TLS, so the certificate's name matches).
    package var url: String {
        var userInfo = ""
        if let password = self.options.password { userInfo = ":\(password)@" }
        return self.options.tls
            ? "rediss://\(userInfo)localhost:\(self.port)" : "redis://\(userInfo)127.0.0.1:\(self.port)"
    }

    /// Kills the server and waits for the process to exit. SIGKILL because the test runner blocks SIGTERM and
    /// children inherit that mask, so redis-server would never see a polite request.
    package func stop() async {
        let running = self.process.withLock { process -> Process? in
            defer { process = nil }
            return process
        }
        guard let running else { return }
        if running.isRunning { kill(running.processIdentifier, SIGKILL) }
        for _ in 0..<500 where running.isRunning {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops and starts the server again on the same port.
    package func restart() async throws {
        await self.stop()
        try await self.launch()
    }

    /// Removes the server's temporary files; call after `stop`.
    package func cleanUp() {
        try? FileManager.default.removeItem(at: self.directory)
    }

    private func launch() async throws {
        guard let executable = Self.executable else {
            throw TestServerError("redis-server not found: set RAHAT_TEST_REDIS_SERVER or put it on PATH")
        }
        var arguments = [
            "--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--dir", self.directory.path,
            "--enable-debug-command", "yes",
        ]
        if let tlsFiles {
            arguments += [
                "--port", "0", "--tls-port", "\(self.port)", "--tls-cert-file", tlsFiles.certificate,
                "--tls-key-file", tlsFiles.key, "--tls-ca-cert-file", tlsFiles.certificate,
                "--tls-auth-clients", "no",
            ]
        } else {
            arguments += ["--port", "\(self.port)"]
        }
        if let password = self.options.password { arguments += ["--requirepass", password] }
        if let aclUser = self.options.aclUser { arguments += ["--user"] + aclUser }
        arguments += self.options.extraArguments

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }
        Self.killWhenTestProcessExits(process.processIdentifier)

        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw TestServerError("redis-server exited during start-up") }
            if await Self.acceptsConnections(port: self.port) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestServerError("redis-server did not start listening on \(self.port)")
    }

    /// A crashed or killed test run must not leave servers behind, and Process cannot ask the kernel for that.
    package static func killWhenTestProcessExits(_ pid: Int32) {
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        let parent = ProcessInfo.processInfo.processIdentifier
        watchdog.arguments = [
            "-c",
            "while kill -0 \(parent) 2>/dev/null && kill -0 \(pid) 2>/dev/null; do sleep 1; done; kill -9 \(pid) 2>/dev/null",
        ]
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try? watchdog.run()
    }

    /// Whether something accepts TCP connections on the loopback `port` now.
    package static func acceptsConnections(port: Int) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(200))
                .connect(host: "127.0.0.1", port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// A loopback port nobody listens on at the moment of asking.
    package static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        guard port > 0 else { throw TestServerError("could not find a free port") }
        return port
    }

    private static func makeCertificate(in directory: URL) throws -> TLSFiles {
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", certificate, "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw TestServerError("openssl could not make a certificate") }
        return TLSFiles(certificate: certificate, key: key)
    }
}

/// A test-infrastructure failure, as opposed to a failed expectation.
package struct TestServerError: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }
}
