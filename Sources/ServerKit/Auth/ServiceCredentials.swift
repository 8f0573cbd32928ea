import Foundation
public import GRPCCore

/// The deployment's service secret (`RAHAT_SERVICE_SECRET` / `_FILE`): the auth service exchanges
/// it for a service's token, and every internal process that calls as itself presents it.
public enum ServiceSecret {
    /// Shorter secrets are refused at start: it guards every service's rights.
    public static let minimumLength = 32

    /// The configured secret, reporting one that is too short.
    public static func read(from source: inout ConfigurationSource) -> String? {
        guard let secret = source.secret("RAHAT_SERVICE_SECRET") else { return nil }
        guard secret.count >= minimumLength else {
            source.report("RAHAT_SERVICE_SECRET: must be at least \(minimumLength) characters")
            return nil
        }
        return secret
    }

    /// The embedded default's secret: `<directory>/service-secret`, created (owner-only) with 32
    /// random bytes on first start. One that exists but cannot be read, or is too short, stops
    /// start-up (``SecretFile``).
    public static func loadOrCreate(in directory: String) throws -> String {
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
public actor ServiceCredentials {
    /// Asks the auth service for a token; returns it and how long it lasts.
    public typealias Issue = @Sendable () async throws -> (token: String, lifetime: Duration)

    private let issue: Issue
    private var current: (token: String, renewAt: ContinuousClock.Instant)?
    private var pending: Task<String, any Error>?

    /// Credentials that `issue` obtains.
    public init(issue: @escaping Issue) {
        self.issue = issue
    }

    /// A valid token; concurrent callers share one request for a new one.
    public func token() async throws -> String {
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

    /// Call metadata that authenticates as the service.
    public func metadata() async throws -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(try await token())", forKey: "authorization")
        return metadata
    }
}
