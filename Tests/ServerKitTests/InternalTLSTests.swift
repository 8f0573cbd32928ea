import Foundation
import ServerKit
import Testing

/// Mutual TLS between processes is configured whole or not at all.
@Suite("Internal TLS settings")
struct InternalTLSTests {
    @Test("no setting is plaintext; some of the three files, or one that cannot be read, stops start-up")
    func wholeOrNothing() throws {
        let readable = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString).pem")
        try Data("-----BEGIN CERTIFICATE-----\n".utf8).write(to: readable)
        defer { try? FileManager.default.removeItem(at: readable) }

        var none = ConfigurationSource(environment: [:])
        #expect(InternalTLS.read(from: &none) == nil)
        #expect(throws: Never.self) { try none.validate() }

        var partial = ConfigurationSource(environment: ["RAHAT_GRPC_TLS_CERT": readable.path])
        #expect(InternalTLS.read(from: &partial) == nil)
        #expect {
            try partial.validate()
        } throws: { error in
            let problems = (error as? ConfigurationError)?.problems ?? []
            return problems.contains { $0.hasPrefix("RAHAT_GRPC_TLS_KEY:") }
                && problems.contains { $0.hasPrefix("RAHAT_GRPC_TLS_CA:") }
        }

        var missingFile = ConfigurationSource(environment: [
            "RAHAT_GRPC_TLS_CERT": readable.path, "RAHAT_GRPC_TLS_KEY": readable.path,
            "RAHAT_GRPC_TLS_CA": "/nonexistent/ca.pem",
        ])
        #expect(InternalTLS.read(from: &missingFile) == nil)
        #expect(throws: ConfigurationError.self) { try missingFile.validate() }

        var complete = ConfigurationSource(environment: [
            "RAHAT_GRPC_TLS_CERT": readable.path, "RAHAT_GRPC_TLS_KEY": readable.path,
            "RAHAT_GRPC_TLS_CA": readable.path, "RAHAT_GRPC_GATEWAY_NAMES": "Gateway, edge.rahat.internal",
        ])
        #expect(InternalTLS.read(from: &complete)?.gatewayNames == ["gateway", "edge.rahat.internal"])
    }
}

/// The service secret guards every service's rights: a configured one must look random.
@Suite("Service secret")
struct ServiceSecretTests {
    @Test("a short or repetitive service secret stops start-up; random base64 or hex does not")
    func strength() {
        func problems(_ secret: String) -> [String] {
            var source = ConfigurationSource(environment: ["RAHAT_SERVICE_SECRET": secret])
            _ = ServiceSecret.read(from: &source)
            do {
                try source.validate()
                return []
            } catch {
                return error.problems
            }
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
        let hex = bytes.prefix(16).map { String(format: "%02x", $0) }.joined()
        #expect(problems(base64).isEmpty)
        #expect(problems(hex).isEmpty)
        #expect(problems("short").first?.contains("at least 32") == true)
        #expect(problems(String(repeating: "a", count: 64)).first?.contains("too predictable") == true)
        #expect(problems(String(repeating: "password", count: 5)).first?.contains("too predictable") == true)
    }
}
