import Foundation
package import GRPCCore
package import GRPCNIOTransportHTTP2
import MetricCatalog
import Metrics
import SwiftASN1
import X509

/// Mutual TLS between the processes of a distributed deployment: each presents a certificate
/// issued by the deployment's own certificate authority and accepts only peers that do, so the
/// passwords, tokens and personal data crossing the internal network are encrypted, and a host
/// on that network without a certificate cannot call a service at all.
///
/// | key | meaning |
/// |---|---|
/// | `RAHAT_GRPC_TLS_CERT` | this process's certificate chain (PEM file), leaf first |
/// | `RAHAT_GRPC_TLS_KEY` | its private key (PEM file) |
/// | `RAHAT_GRPC_TLS_CA` | the internal certificate authority (PEM file): the only issuer trusted, both ways |
/// | `RAHAT_GRPC_GATEWAY_NAMES` | `gateway`: DNS names (subjectAltName) that mark the public gateway's certificate |
/// | `RAHAT_GRPC_INTERNAL_GATEWAY_NAMES` | `internal-gateway`: DNS names that mark the internal gateway's certificate, whose `x-rahat-caller` names who called through it |
///
/// Set all three files or none. A server checks a client's certificate against the authority;
/// a client checks the server's against it and against the host it dialled.
package struct InternalTLS: Sendable, Equatable {
    package var certificateChainPath: String
    package var privateKeyPath: String
    package var certificateAuthorityPath: String
    /// A client certificate naming one of these (as a DNS subjectAltName) is the public gateway's.
    package var gatewayNames: Set<String>
    /// A client certificate naming one of these is the internal gateway's (HAProxy), which says
    /// in `x-rahat-caller` whose call it passes on.
    package var internalGatewayNames: Set<String>

    package init(
        certificateChainPath: String, privateKeyPath: String, certificateAuthorityPath: String,
        gatewayNames: Set<String> = ["gateway"], internalGatewayNames: Set<String> = ["internal-gateway"]
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.certificateAuthorityPath = certificateAuthorityPath
        self.gatewayNames = gatewayNames
        self.internalGatewayNames = internalGatewayNames
    }

    /// The configured files, or `nil` when none is set (plaintext gRPC, for one host or a
    /// network nothing else can reach). One or two of the three, or an unreadable file, is reported.
    package static func read(from source: inout ConfigurationSource) -> InternalTLS? {
        let keys = ["RAHAT_GRPC_TLS_CERT", "RAHAT_GRPC_TLS_KEY", "RAHAT_GRPC_TLS_CA"]
        let values = keys.map { source.raw($0).flatMap { $0.isEmpty ? nil : $0 } }
        let names = source.string("RAHAT_GRPC_GATEWAY_NAMES", default: "gateway")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        let internalNames = source.string("RAHAT_GRPC_INTERNAL_GATEWAY_NAMES", default: "internal-gateway")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        guard values.contains(where: { $0 != nil }) else { return nil }
        var complete = true
        for (key, value) in zip(keys, values) {
            guard let path = value else {
                source.report("\(key): required when any of \(keys.joined(separator: ", ")) is set")
                complete = false
                continue
            }
            if !FileManager.default.isReadableFile(atPath: path) {
                source.report("\(key): cannot read '\(path)'")
                complete = false
            }
        }
        if names.isEmpty { source.report("RAHAT_GRPC_GATEWAY_NAMES: name at least one") }
        guard complete, let cert = values[0], let key = values[1], let authority = values[2] else { return nil }
        return InternalTLS(
            certificateChainPath: cert, privateKeyPath: key, certificateAuthorityPath: authority,
            gatewayNames: Set(names), internalGatewayNames: Set(internalNames))
    }

    /// How a service's gRPC listener secures its connections: it requires a client certificate
    /// issued by the internal authority. Callers are services, not hosts, so no hostname is checked.
    package var serverSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        .mTLS(
            certificateChain: [.file(path: certificateChainPath, format: .pem)],
            privateKey: .file(path: privateKeyPath, format: .pem)
        ) { config in
            config.trustRoots = .certificates([.file(path: certificateAuthorityPath, format: .pem)])
            config.clientCertificateVerification = .noHostnameVerification
        }
    }

    /// How a process calls another: with its own certificate, trusting only the internal
    /// authority, and checking that the server's certificate names the host it dialled.
    package var clientSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        .mTLS(
            certificateChain: [.file(path: certificateChainPath, format: .pem)],
            privateKey: .file(path: privateKeyPath, format: .pem)
        ) { config in
            config.trustRoots = .certificates([.file(path: certificateAuthorityPath, format: .pem)])
            config.serverCertificateVerification = .fullVerification
        }
    }

    /// Records when this process's certificate and the authority expire
    /// (`rahat_tls_certificate_expiry_timestamp_seconds`), so an alert fires weeks before
    /// the services stop trusting each other. A file that does not parse is left unreported:
    /// the transport refuses it at start-up with its own error.
    package func recordExpiry() {
        for (role, path) in [("certificate", certificateChainPath), ("authority", certificateAuthorityPath)] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let first = try? PEMDocument.parseMultiple(pemString: text).first,
                let certificate = try? Certificate(pemDocument: first)
            else { continue }
            ServerKitMetrics.certificateExpiry.gauge(role)
                .record(certificate.notValidAfter.timeIntervalSince1970)
        }
    }

    /// Whether the call came from the public gateway: its verified client certificate carries
    /// one of ``gatewayNames``. Only then is the end user's address it forwards believed.
    package func isGateway(_ context: ServerContext) -> Bool {
        peerNames(context).contains { gatewayNames.contains($0) }
    }

    /// Whether the end user's address a call carries is believed: from the public gateway
    /// directly, or through the internal gateway when it says (`x-rahat-caller`, set from the
    /// caller's certificate and never passed on from the caller) that the public gateway called.
    package func trustsClientAddress(_ context: ServerContext, metadata: Metadata) -> Bool {
        let peer = peerNames(context)
        if peer.contains(where: gatewayNames.contains) { return true }
        guard peer.contains(where: internalGatewayNames.contains),
            let caller = metadata[stringValues: IncomingCall.Key.caller].first(where: { _ in true })
        else { return false }
        return gatewayNames.contains(caller.lowercased())
    }

    /// The DNS names of the caller's verified certificate, lowercased.
    private func peerNames(_ context: ServerContext) -> [String] {
        guard let transport = context.transportSpecific as? HTTP2ServerTransport.Posix.Context,
            let certificate = transport.peerCertificate,
            let alternativeNames = try? certificate.extensions.subjectAlternativeNames
        else { return [] }
        return alternativeNames.compactMap { name in
            if case .dnsName(let dns) = name { return dns.lowercased() }
            return nil
        }
    }
}
