import Logging
import NIOCore
import RedisClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Command-line options; see `usage`.
struct BenchOptions {
    var host = "127.0.0.1"
    var port = 6379
    var requests = 100_000
    var clients = 50
    var pipeline = 1
    var command = "set"
    var valueSize = 3
    var poolSize: Int?

    static let usage = """
        usage: RedisBench [--host H] [--port P] [--requests N] [--clients C] [--pipeline P] \
        [--command get|set] [--value-size BYTES] [--pool-size N]
        """

    init(arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw BenchError("missing value for \(flag)") }
            switch flag {
            case "--host": self.host = value
            case "--port": self.port = try Self.int(value, flag)
            case "--requests": self.requests = try Self.int(value, flag)
            case "--clients": self.clients = try Self.int(value, flag)
            case "--pipeline": self.pipeline = try Self.int(value, flag)
            case "--command": self.command = value.lowercased()
            case "--value-size": self.valueSize = try Self.int(value, flag)
            case "--pool-size": self.poolSize = try Self.int(value, flag)
            default: throw BenchError("unknown option \(flag)")
            }
        }
        guard ["get", "set"].contains(self.command) else { throw BenchError("--command must be get or set") }
        guard self.requests > 0, self.clients > 0, self.pipeline > 0 else {
            throw BenchError("counts must be positive")
        }
    }

    private static func int(_ value: String, _ flag: String) throws -> Int {
        guard let number = Int(value) else { throw BenchError("\(flag) needs an integer, got \(value)") }
        return number
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let options: BenchOptions
do {
    options = try BenchOptions(arguments: CommandLine.arguments)
} catch {
    print("\(error)\n\(BenchOptions.usage)")
    exit(2)
}

var configuration = RedisConfiguration(host: options.host, port: options.port)
// One connection per two concurrent callers, capped at the default pool size: enough connections to keep the
// server busy while callers still share connections and get their commands coalesced into one write.
configuration.poolSize = options.poolSize ?? max(1, min(8, (options.clients + 1) / 2))
configuration.commandTimeout = .seconds(30)
var logger = Logger(label: "redis-bench")
logger.logLevel = .warning
let client = RedisClient(configuration: configuration, logger: logger)

let value = String(repeating: "x", count: options.valueSize)
let key = "key:__rand_int__"
let isSet = options.command == "set"

// Warm the pool (connections open lazily) and make GET read a real value, as redis-benchmark's does after its SET.
do {
    try await client.set(key, to: value)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<options.clients {
            group.addTask { try await client.ping() }
        }
        try await group.waitForAll()
    }
} catch {
    print("warm-up failed: \(error)")
    exit(1)
}

let perClient = options.requests / options.clients
let remainder = options.requests % options.clients
let started = ContinuousClock.now
do {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<options.clients {
            let share = perClient + (index < remainder ? 1 : 0)
            group.addTask {
                let command = isSet ? RedisCommand("SET", key, value) : RedisCommand("GET", key)
                if options.pipeline == 1 {
                    for _ in 0..<share { _ = try await client.send(command) }
                    return
                }
                let batch = Array(repeating: command, count: options.pipeline)
                var remaining = share
                while remaining > 0 {
                    let count = min(remaining, options.pipeline)
                    let results = try await client.pipeline(
                        count == options.pipeline ? batch : Array(batch.prefix(count)))
                    for result in results { _ = try result.get() }
                    remaining -= count
                }
            }
        }
        try await group.waitForAll()
    }
} catch {
    print("benchmark failed: \(error)")
    exit(1)
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
await client.shutdown()
let opsPerSecond = Double(options.requests) / seconds
print(
    "command=\(options.command.uppercased()) pipeline=\(options.pipeline) clients=\(options.clients) "
        + "requests=\(options.requests) pool=\(configuration.poolSize) seconds=\((seconds * 1000).rounded() / 1000) "
        + "ops_per_sec=\(Int(opsPerSecond.rounded()))"
)
