import Foundation
import SharedModels

/// How c2c stores lists of ids and names: as JSON arrays of text.
enum StoredJSON {
    static func decodeIDs(_ json: String) throws -> [UUID] {
        try JSONDecoder().decode([String].self, from: Data(json.utf8)).map { text in
            guard let id = UUID(uuidString: text) else { throw C2CStorageError(description: "user id '\(text)'") }
            return id
        }
    }

    static func encodeIDs(_ ids: [UUID]) throws -> String {
        try encodeJSON(ids.map(\.lowercasedString))
    }

    static func encodeJSON(_ values: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }
}
