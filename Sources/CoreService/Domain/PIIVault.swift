import Crypto
package import Foundation
import SharedModels

/// The keys that protect beneficiaries' personal data.
///
/// Values are sealed with AES-256-GCM under the *current* key; each sealed value names its key,
/// so older keys (kept in the ring) still open what they sealed and keys rotate without a
/// rewrite. Exact-match lookups use HMAC-SHA256 blind indexes under a separate index key, which
/// cannot rotate without recomputing every index.
package struct PIIKeys: Sendable, Equatable {
    /// Id and key of the key that seals new values.
    package var currentKeyID: String
    /// Every key that may have sealed a stored value, by id.
    package var keys: [String: Data]
    package var indexKey: Data

    package init(currentKeyID: String, keys: [String: Data], indexKey: Data) {
        self.currentKeyID = currentKeyID
        self.keys = keys
        self.indexKey = indexKey
    }

    /// Parses `RAHAT_PII_KEYS` (`kid:base64key[,kid:base64key…]`, the first seals) and
    /// `RAHAT_PII_INDEX_KEY` (base64); every key is 32 bytes.
    package static func parse(keys text: String, indexKey indexText: String) -> Result<PIIKeys, PIIKeyError> {
        var ring: [String: Data] = [:]
        var current: String?
        for entry in text.split(separator: ",") {
            let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }),
                let key = Data(base64Encoded: String(parts[1])), key.count == 32
            else {
                return .failure(.malformedKey(String(entry.prefix(while: { $0 != ":" }))))
            }
            ring[String(parts[0])] = key
            if current == nil { current = String(parts[0]) }
        }
        guard let current else { return .failure(.noKeys) }
        guard let index = Data(base64Encoded: indexText), index.count == 32 else { return .failure(.malformedIndexKey) }
        return .success(PIIKeys(currentKeyID: current, keys: ring, indexKey: index))
    }

    /// Fresh random keys, for the embedded default's first start.
    package static func generate() -> PIIKeys {
        PIIKeys(
            currentKeyID: "k1",
            keys: ["k1": SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }],
            indexKey: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        )
    }

    /// The keys in the text form `parse` reads, for storing them.
    package var serialized: (keys: String, indexKey: String) {
        let ordered = [currentKeyID] + keys.keys.filter { $0 != currentKeyID }.sorted()
        let text = ordered.compactMap { id in keys[id].map { "\(id):\($0.base64EncodedString())" } }.joined(
            separator: ",")
        return (text, indexKey.base64EncodedString())
    }
}

/// Why configured PII keys were refused.
package enum PIIKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case noKeys
    case malformedKey(String)
    case malformedIndexKey

    package var description: String {
        switch self {
        case .noKeys: "RAHAT_PII_KEYS: no keys"
        case .malformedKey(let id): "RAHAT_PII_KEYS: entry '\(id)' is not kid:base64 of 32 bytes"
        case .malformedIndexKey: "RAHAT_PII_INDEX_KEY: not base64 of 32 bytes"
        }
    }
}

/// Seals, opens and indexes personal data with ``PIIKeys``.
struct PIIVault: Sendable {
    private let keys: PIIKeys

    init(keys: PIIKeys) {
        self.keys = keys
    }

    /// Seals `plaintext` bound to `context` (record and field), so a sealed value copied onto
    /// another record or field does not open. Form: `<kid>.<base64(nonce|ciphertext|tag)>`.
    func seal(_ plaintext: String, context: String) throws -> String {
        guard let key = keys.keys[keys.currentKeyID] else { throw PIIVaultError.unknownKey(keys.currentKeyID) }
        let box = try AES.GCM.seal(
            Data(plaintext.utf8),
            using: SymmetricKey(data: key),
            authenticating: Data(context.utf8)
        )
        guard let combined = box.combined else { throw PIIVaultError.malformed }
        return "\(keys.currentKeyID).\(combined.base64EncodedString())"
    }

    func open(_ sealed: String, context: String) throws -> String {
        let parts = sealed.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let data = Data(base64Encoded: String(parts[1])) else { throw PIIVaultError.malformed }
        guard let key = keys.keys[String(parts[0])] else { throw PIIVaultError.unknownKey(String(parts[0])) }
        let box = try AES.GCM.SealedBox(combined: data)
        let plaintext = try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: Data(context.utf8))
        return String(decoding: plaintext, as: UTF8.self)
    }

    /// A deterministic, keyed digest of a normalised value, for exact lookup without decryption.
    /// `purpose` separates the index spaces (a phone never matches a national ID).
    func blindIndex(_ normalized: String, purpose: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(purpose):\(normalized)".utf8),
            using: SymmetricKey(data: keys.indexKey)
        )
        return Data(mac).hexString
    }
}

enum PIIVaultError: Error, Equatable {
    case malformed
    case unknownKey(String)
}
