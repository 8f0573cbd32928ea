import Crypto
import Foundation
import HummingbirdBcrypt
import NIOCore
import NIOPosix
import SharedModels
import Synchronization

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
    private let queue: HashQueue

    /// `maxQueued`: hashes waiting or running in this process past which another is refused.
    /// Four per core keeps a sign-in's wait for the pool (one thread per core) near four hashes.
    init(cost: UInt8, maxQueued: Int = System.coreCount * 4) {
        self.cost = cost
        decoyHash = Bcrypt.hash(Secrets.randomToken(), cost: cost)
        queue = HashQueue(limit: maxQueued)
    }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await queue.run { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await queue.run { Bcrypt.verify(password, hash: hash) }
    }
}

/// The password hashes a process has waiting or running on NIO's blocking pool, bounded.
///
/// The pool has one thread per core and an unbounded queue. Under more sign-ins than the cores
/// can hash, each would wait behind all the others, and in a stress run sign-in's p99 passed
/// 3 s while every other path stayed under one. Past `limit`, a hash is refused at once
/// (``AuthError/busy``, answered unavailable with `Retry-After`) before any work is done.
package final class HashQueue: Sendable {
    package let limit: Int
    private let pending = Mutex(0)

    package init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `work` on the blocking pool, or throws ``AuthError/busy`` when `limit` are already
    /// waiting or running.
    package func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let admitted = pending.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else { throw AuthError.busy }
        defer { pending.withLock { $0 -= 1 } }
        return try await NIOThreadPool.singleton.runIfActive(work)
    }
}
