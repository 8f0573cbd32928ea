package import FluentKit
import Foundation
import SQLKit
import ServerKit
import SharedModels

/// A domain event as it leaves a service: versioned JSON with the fields every consumer relies on.
package struct OutboxEvent: Sendable, Equatable {
    /// `rahat.<service>.<noun>.<verb-past>`, also the stream (topic) it is relayed to.
    package var type: String
    package var version: Int
    package var aggregateType: String
    package var aggregateID: String
    /// The event body: a JSON object.
    package var payload: [String: OutboxValue]
    package var occurredAt: Date
    /// W3C trace context of the request that caused the event, when traced.
    package var traceparent: String?

    package init(
        type: String,
        version: Int = 1,
        aggregateType: String,
        aggregateID: String,
        payload: [String: OutboxValue],
        occurredAt: Date,
        traceparent: String? = nil
    ) {
        self.type = type
        self.version = version
        self.aggregateType = aggregateType
        self.aggregateID = aggregateID
        self.payload = payload
        self.occurredAt = occurredAt
        self.traceparent = traceparent
    }
}

/// JSON values for event payloads, so payloads are built from typed values, not strings.
package enum OutboxValue: Sendable, Equatable, Codable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null
    case array([OutboxValue])
    case object([String: OutboxValue])

    /// Reads any JSON value but a fractional number, which no payload holds.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([OutboxValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: OutboxValue].self))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// A service's transactional outbox (docs/architecture.md, "Events: the outbox"): events are written in the same
/// transaction as the change they describe, so an event exists if and only if the change
/// committed. A relay (the messaging layer) publishes unsent rows and marks them sent.
package enum Outbox {
    /// Appends events; call with the transaction that makes the change.
    package static func append(_ events: [OutboxEvent], on database: any Database) async throws {
        var insert = BulkInsert(
            into: OutboxRow.schema,
            columns: [
                "id", "type", "version", "aggregate_type", "aggregate_id", "payload", "occurred_at", "traceparent",
            ])
        // A batch's events usually share one instant: format it once.
        var formatted: (date: Date, text: String)?
        // The span appending them caused them: consumers and job runs continue (or link to) it.
        let traceparent = TraceContext.currentTraceparent()
        for var event in events {
            if event.traceparent == nil { event.traceparent = traceparent }
            let id = UUID.v7(at: event.occurredAt)
            if formatted?.date != event.occurredAt {
                formatted = (event.occurredAt, event.occurredAt.formatted(.iso8601))
            }
            insert.append([
                .uuid(id), .text(event.type), .int(event.version), .text(event.aggregateType),
                .text(event.aggregateID), .text(envelope(for: event, id: id, occurredAt: formatted?.text)),
                .date(event.occurredAt), .of(event.traceparent),
            ])
        }
        try await insert.run(on: database)
    }

    /// Appends one event.
    package static func append(_ event: OutboxEvent, on database: any Database) async throws {
        try await append([event], on: database)
    }

    /// Unsent events (or, `includingSent`, every event still kept) in the order they happened,
    /// oldest first.
    package static func pending(
        limit: Int = 100, includingSent: Bool = false, on database: any Database
    ) async throws -> [StoredOutboxEvent] {
        var query = OutboxRow.query(on: database)
        if !includingSent { query = query.filter(\.$sentAt == nil) }
        return try await query.sort(\.$id).limit(limit).all().map {
            StoredOutboxEvent(
                id: try $0.requireID(),
                type: $0.type,
                aggregateID: $0.aggregateID,
                json: $0.payload,
                occurredAt: $0.occurredAt
            )
        }
    }

    /// How many events wait to be published, and when the oldest of them happened (nil when
    /// none waits): the relay's lag, read through the unsent-rows index.
    package static func backlog(on database: any Database) async throws -> (pending: Int, oldest: Date?) {
        let unsent = OutboxRow.query(on: database).filter(\.$sentAt == nil)
        let pending = try await unsent.count()
        guard pending > 0 else { return (0, nil) }
        let oldest = try await OutboxRow.query(on: database).filter(\.$sentAt == nil).sort(\.$id).first()
        return (pending, oldest?.occurredAt)
    }

    /// The full JSON document consumers receive: the envelope fields plus the payload under `data`.
    static func envelope(for event: OutboxEvent, id: UUID, occurredAt: String? = nil) -> String {
        let document: OutboxValue = .object([
            "id": .string(id.lowercasedString),
            "type": .string(event.type),
            "version": .int(Int64(event.version)),
            "occurredAt": .string(occurredAt ?? event.occurredAt.formatted(.iso8601)),
            "aggregateType": .string(event.aggregateType),
            "aggregateId": .string(event.aggregateID),
            "traceparent": event.traceparent.map(OutboxValue.string) ?? .null,
            "data": .object(event.payload),
        ])
        return document.json
    }
}

extension OutboxValue {
    /// Compact JSON with keys sorted and `/` unescaped, as `JSONEncoder` with `.sortedKeys` and
    /// `.withoutEscapingSlashes` writes it; by hand, because an import writes an event per row
    /// and the generic encoder cost more than the row's database work.
    package var json: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .string(let text): Self.write(text, to: &out)
        case .int(let number): out.append(contentsOf: String(number).utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]?.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func write(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20: out.append(contentsOf: Array("\\u00\([byte].hexString)".utf8))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// An event as stored in the outbox.
package struct StoredOutboxEvent: Sendable, Equatable {
    package var id: UUID
    package var type: String
    package var aggregateID: String
    /// The envelope as consumers will receive it.
    package var json: String
    package var occurredAt: Date

    package init(id: UUID, type: String, aggregateID: String, json: String, occurredAt: Date) {
        self.id = id
        self.type = type
        self.aggregateID = aggregateID
        self.json = json
        self.occurredAt = occurredAt
    }
}

final class OutboxRow: Model, @unchecked Sendable {
    static let schema = "outbox"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "type") var type: String
    @Field(key: "version") var version: Int
    @Field(key: "aggregate_type") var aggregateType: String
    @Field(key: "aggregate_id") var aggregateID: String
    @Field(key: "payload") var payload: String
    @Field(key: "occurred_at") var occurredAt: Date
    @OptionalField(key: "traceparent") var traceparent: String?
    @OptionalField(key: "sent_at") var sentAt: Date?

    init() {}
}

/// Creates a service's `outbox` table; each service lists it among its own migrations.
package struct CreateOutbox: AsyncMigration {
    /// The name stored in the service's migration log, e.g. `core.0001_CreateOutbox`.
    package let name: String

    package init(name: String) {
        self.name = name
    }

    package func prepare(on database: any Database) async throws {
        try await database.schema(OutboxRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("type", .string, .required)
            .field("version", .int, .required)
            .field("aggregate_type", .string, .required)
            .field("aggregate_id", .string, .required)
            .field("payload", .string, .required)
            .field("occurred_at", .datetime, .required)
            .field("traceparent", .string)
            .field("sent_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        // The relay reads unsent rows in id order; a partial index keeps that read small forever.
        try await sql.raw("CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL").run()
    }

    package func revert(on database: any Database) async throws {
        try await database.schema(OutboxRow.schema).delete()
    }
}
