package import Foundation
package import Persistence
package import SwiftProtobuf

/// Event payloads are messages of the services' `events.proto` files, written and read in
/// protobuf's JSON mapping: the names a consumer decodes are the producer's, checked by the build.
extension OutboxEvent {
    /// The event on `topic` whose data is `payload`. Integers stay JSON numbers, as payloads
    /// written before typed events had them, and scalar fields the producer set (they have
    /// presence in `events.proto`) are written even when zero. Protobuf leaves an empty list out;
    /// the lists named in `keepingEmpty` are written as `[]`, as they always were.
    package init(
        topic: String, payload: some SwiftProtobuf.Message, keepingEmpty lists: [String] = [],
        aggregateType: String, aggregateID: String, occurredAt: Date
    ) throws {
        var options = JSONEncodingOptions()
        options.alwaysPrintInt64sAsNumbers = true
        var data = try JSONDecoder().decode(
            [String: OutboxValue].self, from: try payload.jsonUTF8Data(options: options))
        for list in lists where data[list] == nil { data[list] = .array([]) }
        self.init(
            type: topic, aggregateType: aggregateType, aggregateID: aggregateID, payload: data,
            occurredAt: occurredAt)
    }
}

extension ReceivedEvent {
    /// The event's data as `type`. Fields this build does not know are skipped, so a producer may
    /// add one before its consumers learn it; a payload that is not the message throws
    /// `EventDecodingError`, which retrying cannot help.
    package func payload<Payload: SwiftProtobuf.Message>(as type: Payload.Type) throws -> Payload {
        do {
            let data = try JSONEncoder().encode(try self.data(as: OutboxValue.self))
            var options = JSONDecodingOptions()
            options.ignoreUnknownFields = true
            return try Payload(jsonUTF8Data: data, options: options)
        } catch {
            throw EventDecodingError(reason: "\(self.type) \(id) is not a \(Payload.protoMessageName): \(error)")
        }
    }
}
