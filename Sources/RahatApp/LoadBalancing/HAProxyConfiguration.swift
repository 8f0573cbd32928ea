/// HAProxy's configurations: the internal gateway's, rendered from ``InternalGatewayConfiguration``
/// and ``InternalRoutes`` (one HTTP/2 listener per service, routing each gRPC method by its path
/// to that service's replicas, refusing callers the allow-list does not name, retrying only what
/// is safe to send again, and bounding each call), and the public gateway's, in front of the API
/// gateways in two colours (``PublicGatewayConfiguration``).
package enum HAProxyConfiguration {
    /// The internal gateway's `haproxy.cfg`.
    package static func render(_ configuration: InternalGatewayConfiguration) -> String {
        var lines = header(
            [
                "# The internal gateway of Rahat's distributed deployment, for HAProxy 2.6 or later.",
                "# Rendered by `rahat internal-gateway config` from the process list and the routes in",
                "# Sources/RahatApp/LoadBalancing/InternalRoutes.swift; render it again rather than edit it.",
            ], adminSocket: configuration.adminSocket)
        lines += defaults(
            // The caller, the method and what became of it; a refusal names its reason.
            logFormat:
                "%ci:%cp caller=%[var(txn.caller)] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc refused=%[var(txn.refused)] %{+Q}r",
            [
                // A service keeps its HTTP/2 connection to the gateway open between calls.
                "    timeout client 1h",
                "    timeout http-request 10s",
                "    timeout queue 5s",
                "    timeout server 15s",
            ])
        lines += metrics(host: configuration.host, port: configuration.metricsPort)
        for service in configuration.services {
            lines += [""] + frontend(service, configuration: configuration)
            for kind in [InternalRoutes.Kind.idempotent, .write, .streaming] {
                lines += [""] + backend(service, kind: kind, configuration: configuration)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The public gateway's `haproxy.cfg`: both colours' gateways, the inactive colour's in
    /// maintenance. Requests go to blue while any blue gateway is up and in service, else to
    /// green; a switch (`scripts/blue-green`) brings one colour out of maintenance through the
    /// runtime API, then puts the other in, and in-flight requests finish where they started.
    package static func render(_ configuration: PublicGatewayConfiguration) -> String {
        var lines = header(
            [
                "# The public gateway of Rahat's distributed deployment, for HAProxy 2.6 or later: HAProxy in",
                "# front of the API gateways, blue and green. Rendered by `rahat public-gateway config`;",
                "# render it again rather than edit it. The colours switch through the runtime API.",
            ], adminSocket: configuration.adminSocket)
        lines += defaults(
            logFormat: "%ci:%cp %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %{+Q}r",
            [
                // The gateway takes the client's address from the last entry (RAHAT_TRUST_FORWARDED_FOR).
                "    option forwardfor",
                "    timeout client 60s",
                "    timeout http-request 10s",
                "    timeout http-keep-alive 10s",
                "    timeout queue 10s",
                // An upload may stream for an hour; the gateway's own deadlines end anything else sooner.
                "    timeout server 3660s",
            ])
        lines += metrics(host: configuration.host, port: configuration.metricsPort)
        let tls = configuration.pemPath.map { " ssl crt \($0) alpn h2,http/1.1" } ?? ""
        lines += [
            "",
            "frontend public",
            "    bind \(configuration.host):\(configuration.port)\(tls)",
            // Safe to send again: HAProxy retries these on another gateway when one fails.
            "    acl read method GET HEAD OPTIONS",
            "    acl blue_up nbsrv(blue_read) gt 0",
            "    use_backend blue_read if blue_up read",
            "    use_backend blue_write if blue_up",
            "    use_backend green_read if read",
            "    default_backend green_write",
        ]
        for colour in PublicGatewayConfiguration.Colour.allCases {
            let replicas = configuration.replicas(colour)
            let standby = colour != configuration.active ? " disabled" : ""
            lines += [
                "",
                "backend \(colour.rawValue)_read",
                "    balance leastconn",
                "    option httpchk",
                "    http-check send meth GET uri /readiness",
                "    http-check expect status 200",
                // Not on a 503: a gateway answers one when it is overloaded, and sending the
                // request on to the next would spread the overload rather than shed it.
                "    retry-on conn-failure empty-response",
            ]
            for (index, replica) in replicas.enumerated() {
                lines.append(
                    "    server \(colour.rawValue)-\(index + 1) \(replica.host):\(replica.port) check port \(replica.opsPort) inter 1s fall 2 rise 1\(standby)"
                )
            }
            lines += [
                "",
                "backend \(colour.rawValue)_write",
                "    balance leastconn",
                // A write that reached a gateway is never sent twice.
                "    retry-on conn-failure",
            ]
            for index in replicas.indices {
                let name = "\(colour.rawValue)-\(index + 1)"
                lines.append(
                    "    server \(name) \(replicas[index].host):\(replicas[index].port) track \(colour.rawValue)_read/\(name)\(standby)"
                )
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The comment, `global` and `resolvers` sections both configurations begin with.
    private static func header(_ comment: [String], adminSocket: String?) -> [String] {
        var lines =
            comment + [
                "",
                "global",
                "    log stderr format raw local0 info",
                // No maxconn: HAProxy sizes it from the file-descriptor limit it is given.
                "    ssl-default-bind-options ssl-min-ver TLSv1.2",
                "    ssl-default-server-options ssl-min-ver TLSv1.2",
            ]
        if let adminSocket {
            lines.append("    stats socket \(adminSocket) mode 600 level admin expose-fd listeners")
        }
        return lines + [
            "",
            // Replicas named by DNS (a Kubernetes Service's pods, a container's name) are looked up
            // again while HAProxy runs; one that does not resolve yet waits in maintenance.
            "resolvers system",
            "    parse-resolv-conf",
            "    hold valid 10s",
            "",
        ]
    }

    /// The `defaults` section: HTTP, replicas looked up by DNS, a log line per request in
    /// `logFormat`, and two more tries (on another replica where there is one) after a failed
    /// connection; `settings` add the timeouts and the rest.
    private static func defaults(logFormat: String, _ settings: [String]) -> [String] {
        [
            "defaults",
            "    mode http",
            "    default-server init-addr last,libc,none resolvers system",
            "    log global",
            "    log-format \"\(logFormat)\"",
            "    option dontlognull",
            "    timeout connect 2s",
        ] + settings + [
            "    retries 2",
            "    option redispatch 1",
        ]
    }

    /// HAProxy's own Prometheus exporter, and a health answer for whoever runs HAProxy.
    private static func metrics(host: String, port: Int) -> [String] {
        [
            "",
            "frontend metrics",
            "    bind \(host):\(port)",
            "    http-request use-service prometheus-exporter if { path /metrics }",
            "    http-request return status 200 content-type text/plain string \"ok\" if { path /health }",
            "    http-request deny deny_status 404",
        ]
    }

    private static func frontend(
        _ service: InternalGatewayConfiguration.Service, configuration: InternalGatewayConfiguration
    ) -> [String] {
        let routes = InternalRoutes.all.filter { $0.service == service.name }
        var lines = ["frontend \(service.name)"]
        if let tls = configuration.tls {
            lines += [
                "    bind \(configuration.host):\(service.port) ssl crt \(tls.pemPath) ca-file \(tls.authorityPath) verify required alpn h2",
                // Who calls: the common name of the certificate the caller proved it holds.
                "    http-request set-var(txn.caller) ssl_c_s_dn(CN)",
            ]
        } else {
            lines += [
                "    bind \(configuration.host):\(service.port) proto h2",
                "    # Without certificates callers cannot be told apart: every method is open to every caller.",
                "    http-request set-var(txn.caller) str(unknown)",
            ]
        }
        // The service believes the end user's address a call carries only from the public
        // gateway: it learns who called through this header, which no caller can set itself.
        lines += [
            "    http-request del-header x-rahat-caller",
            "    http-request set-header x-rahat-caller %[var(txn.caller)]",
            "    acl health path_beg /grpc.health.v1.Health/",
        ]
        let methods = routes.map(\.path).sorted()
        lines.append("    acl known path \(methods.joined(separator: " "))")
        lines += [
            "    http-request set-var(txn.refused) str(unknown_method) if !known !health",
            // gRPC clients read these HTTP statuses as the codes the gRPC project maps them to
            // (404 UNIMPLEMENTED, 403 PERMISSION_DENIED); HAProxy cannot answer with gRPC trailers.
            "    http-request return status 404 content-type text/plain lf-string \"no method %[path] on \(service.name)\" if !known !health",
        ]
        if configuration.tls != nil {
            for caller in InternalRoutes.Caller.allCases {
                lines.append("    acl caller_\(caller.rawValue) var(txn.caller) -m str \(caller.rawValue)")
            }
            // One rule per set of callers: a method's call from anyone else is refused.
            let bySet = Dictionary(grouping: routes) { $0.callers.sorted().map(\.rawValue).joined(separator: "_") }
            for key in bySet.keys.sorted() {
                guard let group = bySet[key], let callers = group.first?.callers.sorted() else { continue }
                let name = key.isEmpty ? "no_caller" : "only_\(key)"
                lines.append("    acl \(name) path \(group.map(\.path).sorted().joined(separator: " "))")
                let others = callers.map { "!caller_\($0.rawValue)" }.joined(separator: " ")
                lines += [
                    "    http-request set-var(txn.refused) str(not_allowed) if \(name) \(others)",
                    "    http-request return status 403 content-type text/plain lf-string \"%[var(txn.caller)] may not call %[path]\" if \(name) \(others)",
                ]
            }
        }
        for kind in [InternalRoutes.Kind.streaming, .idempotent] {
            let paths = routes.filter { $0.kind == kind }.map(\.path).sorted()
            guard !paths.isEmpty else { continue }
            lines.append("    acl \(kind.rawValue) path \(paths.joined(separator: " "))")
            lines.append("    use_backend \(service.name)_\(kind.rawValue) if \(kind.rawValue)")
        }
        // Health checks are reads.
        lines.append("    use_backend \(service.name)_idempotent if health")
        lines.append("    default_backend \(service.name)_write")
        return lines
    }

    private static func backend(
        _ service: InternalGatewayConfiguration.Service, kind: InternalRoutes.Kind,
        configuration: InternalGatewayConfiguration
    ) -> [String] {
        let routes = InternalRoutes.all.filter { $0.service == service.name && $0.kind == kind }
        let timeout = routes.map(\.timeout).max() ?? .seconds(15)
        var lines = [
            "backend \(service.name)_\(kind.rawValue)",
            // The replica with the fewest calls in progress.
            "    balance leastconn",
            "    timeout server \(timeout.components.seconds)s",
        ]
        if kind == .idempotent {
            // This backend checks each replica's readiness; the others follow its findings.
            lines += [
                "    option httpchk",
                "    http-check send meth GET uri /readiness",
                "    http-check expect status 200",
                // Sent again on another replica when the first could not be reached, answered
                // 503, closed the stream unanswered or took too long.
                "    retry-on conn-failure empty-response response-timeout 503",
            ]
        } else {
            // Only when the request never left: a call that reached a replica is never sent twice.
            lines.append("    retry-on conn-failure")
        }
        let transport: String
        if let tls = configuration.tls {
            // Each service's certificate names its role: HAProxy talks to core only if it is core.
            transport =
                "ssl verify required ca-file \(tls.authorityPath) crt \(tls.pemPath) verifyhost \(service.name) alpn h2"
        } else {
            transport = "proto h2"
        }
        for (index, replica) in service.replicas.enumerated() {
            let name = "\(service.name)-\(index + 1)"
            let health =
                kind == .idempotent
                ? "check port \(replica.opsPort) no-check-ssl check-proto h1 inter 1s fall 2 rise 1"
                : "track \(service.name)_idempotent/\(name)"
            lines.append("    server \(name) \(replica.host):\(replica.port) \(transport) \(health)")
        }
        return lines
    }
}
