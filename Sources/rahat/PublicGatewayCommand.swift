import ArgumentParser
import RahatApp
import ServerKit

struct PublicGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public-gateway",
        abstract: "The public gateway: HAProxy in front of the API gateways, in two colours for blue-green switches.",
        subcommands: [Config.self]
    )

    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print haproxy.cfg for the public gateway, from the gateways named in the environment.",
            discussion: """
                Name the gateways of each colour (RAHAT_GATEWAY_BLUE, RAHAT_GATEWAY_GREEN: host:port[/opsPort], \
                comma-separated), the colour taking requests at start (RAHAT_PUBLIC_GATEWAY_ACTIVE) and \
                RAHAT_PUBLIC_GATEWAY_ADMIN_SOCKET for switching. Run the gateways with \
                RAHAT_TRUST_FORWARDED_FOR=true. See docs/operations.md.
                """
        )

        func run() async throws {
            var source = try await loadSource()
            let configuration = PublicGatewayConfiguration(from: &source)
            do {
                try source.validate()
            } catch {
                throw ValidationError(error.description)
            }
            Console.line(String(HAProxyConfiguration.render(configuration).dropLast()))
        }
    }
}
