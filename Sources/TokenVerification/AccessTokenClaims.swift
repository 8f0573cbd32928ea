package import JWTKit

/// The claims inside a Rahat access token. Signed by the auth service, verified by everyone else
/// with its published public keys.
package struct AccessTokenClaims: JWTPayload, Equatable {
    package static let issuer = "rahat-auth"

    package var iss: IssuerClaim
    package var sub: SubjectClaim
    package var iat: IssuedAtClaim
    package var exp: ExpirationClaim
    package var jti: IDClaim
    /// Session (refresh-token family) id for password logins.
    package var sid: String?
    /// Authentication method: `pwd`, `api_key` or `svc`.
    package var amr: String
    /// The API key's id when `amr` is `api_key`.
    package var akid: String?
    /// The internal service's name when `amr` is `svc`.
    package var svc: String?
    /// Granted permissions in their text form.
    package var perms: [String]

    package init(
        sub: String,
        issuedAt: Date,
        expiresAt: Date,
        id: String,
        sessionID: String?,
        method: String,
        apiKeyID: String?,
        service: String? = nil,
        permissions: [String]
    ) {
        self.iss = IssuerClaim(value: Self.issuer)
        self.sub = SubjectClaim(value: sub)
        self.iat = IssuedAtClaim(value: issuedAt)
        self.exp = ExpirationClaim(value: expiresAt)
        self.jti = IDClaim(value: id)
        self.sid = sessionID
        self.amr = method
        self.akid = apiKeyID
        self.svc = service
        self.perms = permissions
    }

    package func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == Self.issuer else {
            throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "unexpected issuer")
        }
    }
}

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif
