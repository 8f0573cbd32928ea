package import ServerKit

/// Settings of the public gateway.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_HTTP_HOST` | `127.0.0.1` | address to listen on (`0.0.0.0` in containers) |
/// | `RAHAT_HTTP_PORT` | `8080` | port to listen on |
/// | `RAHAT_TRUST_FORWARDED_FOR` | `false` | take the client address from `X-Forwarded-For` (behind a proxy you run) |
/// | `RAHAT_API_KEY_CACHE_SECONDS` | `30` | how long a verified API key is trusted before the auth service is asked again |
package struct GatewayConfiguration: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var trustForwardedFor: Bool
    package var apiKeyCacheTTL: Duration

    package init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        trustForwardedFor: Bool = false,
        apiKeyCacheTTL: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.trustForwardedFor = trustForwardedFor
        self.apiKeyCacheTTL = apiKeyCacheTTL
    }

    package init(from source: inout ConfigurationSource) {
        self.init(
            host: source.string("RAHAT_HTTP_HOST", default: "127.0.0.1"),
            port: source.int("RAHAT_HTTP_PORT", default: 8080, in: 0...65_535),
            trustForwardedFor: source.bool("RAHAT_TRUST_FORWARDED_FOR", default: false),
            apiKeyCacheTTL: .seconds(source.int("RAHAT_API_KEY_CACHE_SECONDS", default: 30, in: 0...3600))
        )
    }
}
