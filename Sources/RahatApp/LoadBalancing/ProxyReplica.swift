import Foundation
package import ServerKit

/// One process behind HAProxy: where it serves, and where its `/readiness` (the health check)
/// answers.
package struct ProxyReplica: Sendable, Equatable {
    package var host: String
    package var port: Int
    /// Where its `/readiness` answers.
    package var opsPort: Int

    package init(host: String, port: Int, opsPort: Int? = nil) {
        self.host = host
        self.port = port
        self.opsPort = opsPort ?? port + 1
    }

    /// `host:port[/opsPort]`; a bracketed IPv6 host keeps its brackets.
    package static func parse(_ text: String) -> ProxyReplica? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let colon = parts[0].lastIndex(of: ":") else { return nil }
        let host = String(parts[0][..<colon])
        guard !host.isEmpty, let port = Int(parts[0][parts[0].index(after: colon)...]), (1...65_535).contains(port)
        else { return nil }
        var opsPort: Int?
        if parts.count == 2 {
            guard let ops = Int(parts[1]), (1...65_535).contains(ops) else { return nil }
            opsPort = ops
        }
        return ProxyReplica(host: host, port: port, opsPort: opsPort)
    }

    /// The comma-separated replicas in `key`; an entry that does not parse, or an empty list when
    /// `required`, is reported.
    package static func list(
        _ key: String, default defaultValue: String, required: Bool = true, from source: inout ConfigurationSource
    ) -> [ProxyReplica] {
        var replicas: [ProxyReplica] = []
        var malformed = false
        for entry in source.string(key, default: defaultValue).split(separator: ",")
            .map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty
        {
            if let replica = parse(entry) {
                replicas.append(replica)
            } else {
                source.report("\(key): '\(entry)' is not host:port or host:port/opsPort")
                malformed = true
            }
        }
        if required, replicas.isEmpty, !malformed { source.report("\(key): name at least one replica") }
        return replicas
    }
}
