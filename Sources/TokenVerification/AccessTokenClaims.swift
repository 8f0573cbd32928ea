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
    /// Authentication method: `pwd`, `api_key` or `svc`.
    public var amr: String
    /// The API key's id when `amr` is `api_key`.
    public var akid: String?
    /// The internal service's name when `amr` is `svc`.
    public var svc: String?
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
