import Foundation
package import ServerKit

/// What `rahat internal-gateway config` renders HAProxy's configuration from: where HAProxy
/// listens for each service, where each service's replicas are, and the certificates.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_INTERNAL_GATEWAY_HOST` | `127.0.0.1` | the address HAProxy listens on (`0.0.0.0` in containers) |
/// | `RAHAT_INTERNAL_GATEWAY_AUTH_PORT`, `_CORE_PORT`, `_LEDGER_PORT`, `_C2C_PORT` | `7401`, `7411`, `7421`, `7431` | one listener per service: callers dial `RAHAT_<SERVICE>_ADDRESS=<gateway host>:<port>` |
/// | `RAHAT_INTERNAL_GATEWAY_METRICS_PORT` | `8405` | HAProxy's Prometheus endpoint (`/metrics`) |
/// | `RAHAT_AUTH_REPLICAS`, `RAHAT_CORE_REPLICAS`, `RAHAT_LEDGER_REPLICAS`, `RAHAT_C2C_REPLICAS` | one replica at the service's default ports | `host:grpcPort[/opsPort]`, comma-separated; the operations port (its `/readiness` is the health check) defaults to the gRPC port + 1 |
/// | `RAHAT_INTERNAL_GATEWAY_PEM` | none | HAProxy's certificate chain and private key in one PEM file (`cat cert.pem key.pem`) |
/// | `RAHAT_GRPC_TLS_CA` | none | the internal certificate authority, trusted both ways |
/// | `RAHAT_INTERNAL_GATEWAY_ADMIN_SOCKET` | none | a path for HAProxy's runtime API (rolling restarts drain a replica through it) |
///
/// With the PEM and the authority, every hop is mutual TLS, each caller is known by its
/// certificate's common name and the allow-list applies; without them HAProxy speaks plaintext
/// HTTP/2 and cannot tell callers apart, so every method is open to every caller (one host only).
package struct InternalGatewayConfiguration: Sendable, Equatable {
    /// A service behind the gateway.
    package struct Service: Sendable, Equatable {
        /// `auth`, `core`, `ledger` or `c2c`: the routes' ``InternalRoutes/Route/service``.
        package var name: String
        /// Where HAProxy listens for callers of this service.
        package var port: Int
        package var replicas: [ProxyReplica]
    }

    /// The files for mutual TLS.
    package struct TLS: Sendable, Equatable {
        /// HAProxy's certificate chain and key, in one PEM file.
        package var pemPath: String
        package var authorityPath: String
    }

    package var host: String
    package var services: [Service]
    package var metricsPort: Int
    package var tls: TLS?
    package var adminSocket: String?

    package init(host: String, services: [Service], metricsPort: Int, tls: TLS?, adminSocket: String?) {
        self.host = host
        self.services = services
        self.metricsPort = metricsPort
        self.tls = tls
        self.adminSocket = adminSocket
    }

    /// The services, their default listener ports and the ports their processes serve by default.
    static let defaults: [(name: String, port: Int, servicePort: Int)] = [
        ("auth", 7401, 7101), ("core", 7411, 7111), ("ledger", 7421, 7121), ("c2c", 7431, 7131),
    ]

    /// Reads the settings; problems (a replica that does not parse, one TLS file of two) are reported.
    package init(from source: inout ConfigurationSource) {
        let host = source.string("RAHAT_INTERNAL_GATEWAY_HOST", default: "127.0.0.1")
        var services: [Service] = []
        for (name, port, servicePort) in Self.defaults {
            let replicas = ProxyReplica.list(
                "RAHAT_\(name.uppercased())_REPLICAS", default: "127.0.0.1:\(servicePort)", from: &source)
            services.append(
                Service(
                    name: name,
                    port: source.int("RAHAT_INTERNAL_GATEWAY_\(name.uppercased())_PORT", default: port, in: 1...65_535),
                    replicas: replicas))
        }
        let pem = source.raw("RAHAT_INTERNAL_GATEWAY_PEM").flatMap { $0.isEmpty ? nil : $0 }
        let authority = source.raw("RAHAT_GRPC_TLS_CA").flatMap { $0.isEmpty ? nil : $0 }
        var tls: TLS?
        switch (pem, authority) {
        case (let pem?, let authority?): tls = TLS(pemPath: pem, authorityPath: authority)
        case (nil, nil): tls = nil
        default: source.report("RAHAT_INTERNAL_GATEWAY_PEM and RAHAT_GRPC_TLS_CA: set both or neither")
        }
        self.init(
            host: host, services: services,
            metricsPort: source.int("RAHAT_INTERNAL_GATEWAY_METRICS_PORT", default: 8405, in: 1...65_535),
            tls: tls, adminSocket: source.raw("RAHAT_INTERNAL_GATEWAY_ADMIN_SOCKET").flatMap { $0.isEmpty ? nil : $0 })
    }
}
