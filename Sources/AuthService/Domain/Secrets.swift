import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import SharedModels

/// Random tokens and their stored digests.
enum Secrets {
    /// `count` random bytes as unpadded base64url.
    static func randomToken(bytes count: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64URLEncoded
    }

    /// SHA-256 hex digest: how high-entropy secrets (refresh tokens, API keys) are stored. A slow
    /// hash adds nothing when the secret itself has 256 bits of entropy.
    static func digest(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).hexString
    }

    /// Compares two digests in time independent of where they first differ.
    static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// Bcrypt hashing of human passwords, off the cooperative thread pool: a hash costs tens to
/// hundreds of milliseconds of CPU by design.
struct PasswordHasher: Sendable {
    let cost: UInt8
    /// A hash of an unguessable password at the same cost, verified against when the email is
    /// unknown so that response time does not reveal which emails have accounts.
    let decoyHash: String

    init(cost: UInt8) {
        self.cost = cost
        decoyHash = Bcrypt.hash(Secrets.randomToken(), cost: cost)
    }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
