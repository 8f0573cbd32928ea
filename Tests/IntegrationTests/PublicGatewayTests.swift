import Foundation
import RahatApp
import ServerKit
import TestInfrastructure
import Testing

@Suite("The public gateway: HAProxy in front of the API gateways, blue and green")
struct PublicGatewayTests {
    @Test("the settings are read, and a green start without green gateways or an unknown colour is refused")
    func settings() {
        var both = ConfigurationSource(environment: [
            "RAHAT_GATEWAY_BLUE": "gw-blue-1:8080, gw-blue-2:8080/9081", "RAHAT_GATEWAY_GREEN": "gw-green-1:8080",
            "RAHAT_PUBLIC_GATEWAY_ACTIVE": "green", "RAHAT_PUBLIC_GATEWAY_PORT": "8443",
        ])
        let configuration = PublicGatewayConfiguration(from: &both)
        var greenless = ConfigurationSource(environment: ["RAHAT_PUBLIC_GATEWAY_ACTIVE": "green"])
        _ = PublicGatewayConfiguration(from: &greenless)
        var unknown = ConfigurationSource(environment: [
            "RAHAT_PUBLIC_GATEWAY_ACTIVE": "purple", "RAHAT_GATEWAY_GREEN": "gw:80x",
        ])
        _ = PublicGatewayConfiguration(from: &unknown)
        #expect(both.problems.isEmpty)
        #expect(configuration.active == .green)
        #expect(configuration.blue.map(\.opsPort) == [8081, 9081])
        #expect(configuration.green.map(\.host) == ["gw-green-1"])
        #expect(configuration.port == 8443)
        #expect(greenless.problems.count == 1)
        #expect(unknown.problems.count == 2)
    }

    @Test(
        "HAProxy accepts the rendered configuration; the colour not taking requests starts in maintenance",
        .enabled(if: TestHAProxy.isEnabled))
    func validConfiguration() throws {
        let authority = try TestCertificates()
        defer { authority.remove() }
        let pem = try InternalGatewayTests.pem(
            authority.issue("api.example.org", dnsNames: ["api.example.org"]), in: authority)
        var source = ConfigurationSource(environment: [
            "RAHAT_GATEWAY_BLUE": "127.0.0.1:8080/8081,127.0.0.1:8090/8091",
            "RAHAT_GATEWAY_GREEN": "127.0.0.1:8180/8181",
            "RAHAT_PUBLIC_GATEWAY_PEM": pem,
            "RAHAT_PUBLIC_GATEWAY_ADMIN_SOCKET": authority.directory.appendingPathComponent("admin.sock").path,
        ])
        let rendered = HAProxyConfiguration.render(PublicGatewayConfiguration(from: &source))
        var plain = ConfigurationSource(environment: [:])
        let blueOnly = HAProxyConfiguration.render(PublicGatewayConfiguration(from: &plain))
        #expect(try TestHAProxy.problems(in: rendered) == nil)
        #expect(try TestHAProxy.problems(in: blueOnly) == nil)
        let servers = rendered.split(separator: "\n").filter { $0.hasPrefix("    server ") }
        #expect(servers.count == 6)
        #expect(servers.filter { $0.contains(" green-") }.allSatisfy { $0.hasSuffix(" disabled") })
        #expect(servers.filter { $0.contains(" blue-") }.allSatisfy { !$0.hasSuffix(" disabled") })
        #expect(rendered.contains("alpn h2,http/1.1"))
    }
}
