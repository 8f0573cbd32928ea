import Foundation
package import GRPCCore

/// The deployment's service secret (`RAHAT_SERVICE_SECRET` / `_FILE`): the auth service exchanges
/// it for a service's token, and every internal process that calls as itself presents it.
package enum ServiceSecret {
    /// Shorter secrets are refused at start: it guards every service's rights.
    package static let minimumLength = 32

    /// Secrets whose characters carry less than this, by ``estimatedBits(_:)``, are refused.
    package static let minimumBits = 100.0

    /// The configured secret, reporting one that is too short or too repetitive to be random.
    package static func read(from source: inout ConfigurationSource) -> String? {
        guard let secret = source.secret("RAHAT_SERVICE_SECRET") else { return nil }
        guard secret.count >= minimumLength else {
            source.report("RAHAT_SERVICE_SECRET: must be at least \(minimumLength) characters")
            return nil
        }
        guard estimatedBits(secret) >= minimumBits, !isRepetition(secret) else {
            source.report(
                "RAHAT_SERVICE_SECRET: too predictable to be random; make one with openssl rand -base64 32")
            return nil
        }
        return secret
    }

    /// Whether `secret` is one shorter string said over and over (`abcabcabc…`).
    static func isRepetition(_ secret: String) -> Bool {
        let characters = Array(secret.unicodeScalars.prefix(1024))
        guard characters.count > 1 else { return true }
        return (1...(characters.count / 2)).contains { period in
            characters.indices.allSatisfy { characters[$0] == characters[$0 % period] }
        }
    }

    /// An upper estimate of the secret's entropy: its length times the Shannon entropy of its
    /// characters' frequencies. Random base64 or hex of 16 bytes or more clears
    /// ``minimumBits`` by a wide margin; a long run of a few characters does not. It cannot tell
    /// a memorable sentence from a random one, so it catches mistakes, not determined weakness.
    package static func estimatedBits(_ secret: String) -> Double {
        let characters = Array(secret.unicodeScalars)
        guard !characters.isEmpty else { return 0 }
        var counts: [Unicode.Scalar: Int] = [:]
        for character in characters { counts[character, default: 0] += 1 }
        let total = Double(characters.count)
        let perCharacter = counts.values.reduce(0.0) { sum, count in
            let p = Double(count) / total
            return sum - p * log2(p)
        }
        return perCharacter * total
    }

    /// The embedded default's secret: `<directory>/service-secret`, created (owner-only) with 32
    /// random bytes on first start. One that exists but cannot be read, or is too short, stops
    /// start-up (``SecretFile``).
    package static func loadOrCreate(in directory: String) throws -> String {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("service-secret").path
        let data = try SecretFile.loadOrCreate(at: path) {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            return Data(Data(bytes).base64EncodedString().utf8)
        }
        let secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard secret.count >= minimumLength else {
            throw SecretFileError(path: path, problem: "holds a secret shorter than \(minimumLength) characters")
        }
        return secret
    }
}

/// An internal service's own credentials: a token from the auth service, fetched when first
/// needed and again once two thirds of its life have passed, shared by every call the service
/// makes as itself (its jobs, and the calls that need its rights rather than its caller's).
package actor ServiceCredentials {
    /// Asks the auth service for a token; returns it and how long it lasts.
    package typealias Issue = @Sendable () async throws -> (token: String, lifetime: Duration)

    private let issue: Issue
    private var current: (token: String, renewAt: ContinuousClock.Instant)?
    private var pending: Task<String, any Error>?

    /// Credentials that `issue` obtains.
    package init(issue: @escaping Issue) {
        self.issue = issue
    }

    /// A valid token; concurrent callers share one request for a new one.
    package func token() async throws -> String {
        if let current, ContinuousClock.now < current.renewAt { return current.token }
        if let pending { return try await pending.value }
        let issue = self.issue
        let task = Task { () async throws -> String in
            let started = ContinuousClock.now
            let (token, lifetime) = try await issue()
            self.store(token, renewAt: started + lifetime * 2 / 3)
            return token
        }
        pending = task
        defer { pending = nil }
        return try await task.value
    }

    private func store(_ token: String, renewAt: ContinuousClock.Instant) {
        current = (token, renewAt)
    }

    /// Call metadata that authenticates as the service. A service's own calls are made to
    /// write, or to decide what to pay, so whatever they read comes from the primary.
    package func metadata() async throws -> Metadata {
        IncomingCall(authorization: "Bearer \(try await token())", readsPrimary: true).metadata
    }
}
