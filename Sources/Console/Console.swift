import Foundation
package import Gateway
package import Hummingbird
package import Logging
import NIOCore
package import ServerKit

/// The web console for programme staff, approvers and auditors, served by the gateway at
/// `/console`: server-rendered pages over the public API, called in process as the signed-in user.
package struct Console: GatewayRoutes {
    let configuration: ConsoleConfiguration
    let resources: ConsoleResources
    let sessionStore: any SessionStore
    let trustForwardedProto: Bool
    let logger: Logger

    /// A console reading its resources now, so that a broken installation fails at start-up.
    ///
    /// - Parameters:
    ///   - sessions: where sessions live (Redis when several gateways serve the console).
    ///   - trustForwardedProto: whether `X-Forwarded-Proto` comes from a proxy the gateway trusts.
    package init(
        configuration: ConsoleConfiguration, sessions: any SessionStore, trustForwardedProto: Bool, logger: Logger
    ) throws {
        self.configuration = configuration
        self.resources = try ConsoleResources.load(configuredPath: configuration.resourcesPath)
        guard resources.languages[configuration.defaultLanguage] != nil else {
            throw ConfigurationError(problems: [
                "RAHAT_CONSOLE_LANGUAGE: '\(configuration.defaultLanguage)' is not one of "
                    + resources.languages.keys.sorted().joined(separator: ", ")
            ])
        }
        self.sessionStore = sessions
        self.trustForwardedProto = trustForwardedProto
        self.logger = logger
    }

    package func register(on router: Router<GatewayRequestContext>, api: InProcessAPI) throws {
        let core = ConsoleCore(
            configuration: configuration,
            resources: resources,
            renderer: Renderer(resources: resources),
            sessions: ConsoleSessions(
                store: sessionStore, idle: configuration.sessionIdle, maximum: configuration.sessionMax),
            uploads: UploadStash(store: sessionStore),
            api: Client.inProcess(api),
            trustForwardedProto: trustForwardedProto,
            defaultTimeZone: TimeZone(identifier: configuration.defaultTimeZone) ?? .gmt,
            logger: logger
        )
        Assets(resources: resources).register(on: router)
        let console = router.group("console").add(middleware: ConsoleMiddleware(core: core))
        SignInPages(core: core).register(on: console)
        HomePage(core: core).register(on: console)
        ProjectPages(core: core).register(on: console)
        ProjectFundsPages(core: core).register(on: console)
        BeneficiaryPages(core: core).register(on: console)
        VerificationPages(core: core).register(on: console)
        DisbursementPages(core: core).register(on: console)
        ImportPages(core: core).register(on: console)
        VendorPages(core: core).register(on: console)
        RedemptionPages(core: core).register(on: console)
        SettlementPages(core: core).register(on: console)
        LedgerPages(core: core).register(on: console)
        JobPages(core: core).register(on: console)
        UserPages(core: core).register(on: console)
        RolePages(core: core).register(on: console)
        APIKeyPages(core: core).register(on: console)
        console.get("**") { _, _ in core.refusal(status: .notFound, key: "error_not_found") }
    }
}

/// The stylesheet and script, under a digest of their content so they can be cached for good.
struct Assets: Sendable {
    let resources: ConsoleResources

    func register(on router: Router<GatewayRequestContext>) {
        for asset in resources.assets.values {
            router.get(RouterPath(asset.path)) { _, _ in
                var response = Response(
                    status: .ok,
                    headers: [
                        .contentType: asset.contentType,
                        .cacheControl: "public, max-age=31536000, immutable",
                    ],
                    body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
                ConsoleMiddleware.stampSecurityHeaders(on: &response)
                return response
            }
        }
    }
}
