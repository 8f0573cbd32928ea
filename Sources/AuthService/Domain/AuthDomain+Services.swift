import Foundation
import Logging
import ServerKit
import SharedModels
import TokenVerification

/// What each internal service may do with its own token. Fixed in code, not configured: a leaked
/// service secret grants no more than these, and a new service's rights are reviewed with it.
enum ServiceGrants {
    static let byService: [String: PermissionSet] = [
        // Moves value through the ledger (funding, disbursement lines, redemptions, settlements),
        // reads the project, beneficiaries (with the phone an SMS code goes to) and vendors it
        // moves value between, and the users named as approvers.
        "c2c": PermissionSet([
            Permission(.ledger, .create), Permission(.ledger, .read), Permission(.project, .read),
            Permission(.beneficiary, .read), Permission(.beneficiaryPII, .read), Permission(.vendor, .read),
            Permission(.user, .read),
        ])
    ]
}

extension AuthDomain {
    /// A service's token and what it carries.
    struct ServiceToken: Sendable {
        var accessToken: String
        var expiresIn: Duration
        var permissions: PermissionSet
    }

    /// Exchanges the deployment's service secret for a token of `service`, valid as long as a
    /// user's access token. Unknown services and wrong secrets are told apart from neither.
    /// A caller (`peer`, its transport address) that fails too often is refused for a while,
    /// whatever it presents.
    func issueServiceToken(service: String, secret: String, peer: String) async throws -> ServiceToken {
        guard let configured = configuration.serviceSecret else { throw AuthError.serviceCredentialsNotConfigured }
        let now = self.now()
        // The port changes with every connection; the address is the caller.
        let address = IncomingCallInterceptor.host(ofPeer: peer) ?? peer
        if let seconds = serviceCredentialFailures.retryAfter(address) {
            throw AuthError.tooManyAttempts(retryAfterSeconds: seconds)
        }
        let secretMatches = Secrets.constantTimeEquals(Secrets.digest(secret), Secrets.digest(configured))
        guard secretMatches, let grants = ServiceGrants.byService[service] else {
            await serviceCredentialFailures.charge(address)
            logger.warning(
                "service token refused: wrong service secret or unknown service",
                metadata: ["peer": "\(address)", "service": "\(service.prefix(40))"])
            throw AuthError.invalidServiceCredentials
        }
        let ttl = configuration.accessTokenTTL
        let claims = AccessTokenClaims(
            sub: ServicePrincipal.id(of: service).lowercasedString,
            issuedAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(ttl.components.seconds)),
            id: UUID.v7(at: now).lowercasedString,
            sessionID: nil,
            method: "svc",
            apiKeyID: nil,
            service: service,
            permissions: grants.texts
        )
        return ServiceToken(accessToken: try await signingKeys.sign(claims), expiresIn: ttl, permissions: grants)
    }
}
