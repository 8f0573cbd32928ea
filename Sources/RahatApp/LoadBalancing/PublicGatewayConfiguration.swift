package import ServerKit

/// What `rahat public-gateway config` renders HAProxy's configuration from: HAProxy in front of
/// the public API gateways, in two colours for blue-green switches.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_PUBLIC_GATEWAY_HOST` | `127.0.0.1` | the address HAProxy listens on (`0.0.0.0` in containers) |
/// | `RAHAT_PUBLIC_GATEWAY_PORT` | `8000` | where clients connect: HTTP/1.1, and HTTP/2 over TLS |
/// | `RAHAT_PUBLIC_GATEWAY_METRICS_PORT` | `8406` | HAProxy's Prometheus endpoint (`/metrics`) |
/// | `RAHAT_GATEWAY_BLUE` | `127.0.0.1:8080/8081` | the blue gateways, `host:port[/opsPort]`, comma-separated |
/// | `RAHAT_GATEWAY_GREEN` | none | the green gateways, the same way |
/// | `RAHAT_PUBLIC_GATEWAY_ACTIVE` | `blue` | the colour that takes requests when HAProxy starts |
/// | `RAHAT_PUBLIC_GATEWAY_PEM` | none | a certificate chain and key in one PEM file: clients connect over TLS |
/// | `RAHAT_PUBLIC_GATEWAY_ADMIN_SOCKET` | none | a path for HAProxy's runtime API, which switches colours and drains replicas |
///
/// The gateways should run with `RAHAT_TRUST_FORWARDED_FOR=true`: HAProxy appends the client's
/// address to `X-Forwarded-For`, and the gateway takes the last entry.
package struct PublicGatewayConfiguration: Sendable, Equatable {
    /// One of the two sets of gateways.
    package enum Colour: String, Sendable, CaseIterable {
        case blue, green
    }

    package var host: String
    package var port: Int
    package var metricsPort: Int
    package var blue: [ProxyReplica]
    package var green: [ProxyReplica]
    package var active: Colour
    package var pemPath: String?
    package var adminSocket: String?

    /// The gateways of `colour`.
    package func replicas(_ colour: Colour) -> [ProxyReplica] {
        switch colour {
        case .blue: blue
        case .green: green
        }
    }

    /// Reads the settings; a replica that does not parse, or an active colour with no gateway, is reported.
    package init(from source: inout ConfigurationSource) {
        host = source.string("RAHAT_PUBLIC_GATEWAY_HOST", default: "127.0.0.1")
        port = source.int("RAHAT_PUBLIC_GATEWAY_PORT", default: 8000, in: 1...65_535)
        metricsPort = source.int("RAHAT_PUBLIC_GATEWAY_METRICS_PORT", default: 8406, in: 1...65_535)
        blue = ProxyReplica.list("RAHAT_GATEWAY_BLUE", default: "127.0.0.1:8080/8081", from: &source)
        green = ProxyReplica.list("RAHAT_GATEWAY_GREEN", default: "", required: false, from: &source)
        let activeText = source.string("RAHAT_PUBLIC_GATEWAY_ACTIVE", default: "blue")
        if let colour = Colour(rawValue: activeText.lowercased()) {
            active = colour
        } else {
            source.report("RAHAT_PUBLIC_GATEWAY_ACTIVE: '\(activeText)' is neither blue nor green")
            active = .blue
        }
        if active == .green, green.isEmpty {
            source.report("RAHAT_PUBLIC_GATEWAY_ACTIVE: green is active, but RAHAT_GATEWAY_GREEN names no gateway")
        }
        pemPath = source.raw("RAHAT_PUBLIC_GATEWAY_PEM").flatMap { $0.isEmpty ? nil : $0 }
        adminSocket = source.raw("RAHAT_PUBLIC_GATEWAY_ADMIN_SOCKET").flatMap { $0.isEmpty ? nil : $0 }
    }
}
