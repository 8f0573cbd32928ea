import RedisClient
import ServerKit

/// Wakes every follower of a job in this process from one pattern subscription to the jobs'
/// change channels, instead of a Redis connection per follower: a gateway serving a thousand
/// progress streams holds one connection for them, and none while nobody follows.
///
/// Followers also re-read on a timeout, so a change published while the subscription was being
/// re-established is seen late, never missed.
actor JobChangeFeed {
    private let redis: RedisClient
    /// The channel of job `id` is `channelPrefix + id`.
    private let channelPrefix: String
    private var subscription: RedisSubscription?
    private var connecting: Task<RedisSubscription, any Error>?
    private var followers: [String: [Int: WakeSignal]] = [:]
    private var nextToken = 0

    init(redis: RedisClient, channelPrefix: String) {
        self.redis = redis
        self.channelPrefix = channelPrefix
    }

    /// Registers a follower of job `id`; its signal is raised whenever the job's channel carries a
    /// change. Pair with ``unfollow(_:token:)``.
    func follow(_ id: String) -> (token: Int, signal: WakeSignal) {
        nextToken += 1
        let signal = WakeSignal()
        followers[id, default: [:]][nextToken] = signal
        return (nextToken, signal)
    }

    func unfollow(_ id: String, token: Int) async {
        followers[id]?[token] = nil
        if followers[id]?.isEmpty == true { followers[id] = nil }
        if followers.isEmpty, let subscription {
            self.subscription = nil
            await subscription.close()
        }
    }

    /// Returns once the subscription is live, (re)subscribing when it is not.
    func ensureSubscribed() async throws {
        if subscription != nil { return }
        if let connecting {
            _ = try await connecting.value
            return
        }
        let redis = redis
        let pattern = channelPrefix + "*"
        let task = Task { try await redis.subscribe(toPatterns: [pattern]) }
        connecting = task
        defer { connecting = nil }
        let subscription = try await task.value
        if followers.isEmpty {
            await subscription.close()
            return
        }
        self.subscription = subscription
        Task { await self.listen(to: subscription) }
    }

    private func listen(to subscription: RedisSubscription) async {
        do {
            for try await message in subscription {
                wake(String(message.channel.dropFirst(channelPrefix.count)))
            }
        } catch {
            // Lost: the next wait subscribes again, and every follower re-reads meanwhile.
        }
        if self.subscription === subscription { self.subscription = nil }
        for signals in followers.values { for signal in signals.values { signal.signal() } }
    }

    private func wake(_ id: String) {
        guard let signals = followers[id] else { return }
        for signal in signals.values { signal.signal() }
    }
}
