public import JWTKit

/// The claims inside a Rahat access token. Signed by the auth service, verified by everyone else
/// with its published public keys.
public struct AccessTokenClaims: JWTPayload, Equatable {
    public static let issuer = "rahat-auth"

    public var iss: IssuerClaim
    public var sub: SubjectClaim
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    public var jti: IDClaim
    /// Session (refresh-token family) id for password logins.
    public var sid: String?
    /// Authentication method: `pwd` or `api_key`.
    public var amr: String
    /// The API key's id when `amr` is `api_key`.
    public var akid: String?
    /// Granted permissions in their text form.
    public var perms: [String]

    public init(
        sub: String,
        issuedAt: Date,
        expiresAt: Date,
        id: String,
        sessionID: String?,
        method: String,
        apiKeyID: String?,
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
        self.perms = permissions
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == Self.issuer else {
            throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "unexpected issuer")
        }
    }
}

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
