import Crypto
package import Foundation
import ServerKit

/// The key that seals the access-token signing keys kept in the database
/// (`RAHAT_JWT_SEAL_KEY`: 32 random bytes, base64).
///
/// Sealed, a signing key read from the database — by a backup, a replica, or a login that should
/// not have had it — mints nothing without this key, which lives in a secret store beside the
/// other secrets, not in the database.
package struct SigningKeySeal: Sendable, Equatable {
    let key: SymmetricKey

    /// The seal for 32 bytes of key material; `nil` for any other length.
    package init?(keyData: Data) {
        guard keyData.count == 32 else { return nil }
        key = SymmetricKey(data: keyData)
    }

    /// A configured value: the base64 of 32 bytes.
    package init?(base64 text: String) {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return nil
        }
        self.init(keyData: data)
    }

    /// A fresh random seal, base64, as `RAHAT_JWT_SEAL_KEY` takes it.
    package static func generateBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    package static func == (lhs: SigningKeySeal, rhs: SigningKeySeal) -> Bool {
        lhs.key == rhs.key
    }

    /// `pem` sealed and bound to `kid`, so a sealed key copied onto another row does not open.
    func seal(_ pem: String, kid: String) throws -> String {
        let box = try AES.GCM.seal(Data(pem.utf8), using: key, authenticating: Data(kid.utf8))
        guard let combined = box.combined else {
            throw ServiceError(
                .internalError, reason: "auth.signing_key_seal", message: "Could not seal a signing key.")
        }
        return combined.base64EncodedString()
    }

    /// The PEM that ``seal(_:kid:)`` sealed for `kid`.
    func open(_ sealed: String, kid: String) throws -> String {
        guard let data = Data(base64Encoded: sealed),
            let box = try? AES.GCM.SealedBox(combined: data),
            let plaintext = try? AES.GCM.open(box, using: key, authenticating: Data(kid.utf8))
        else {
            throw ServiceError(
                .unavailable,
                reason: "auth.signing_key_unsealable",
                message:
                    "Signing key \(kid) does not open with RAHAT_JWT_SEAL_KEY: the seal key is not the one it was sealed with."
            )
        }
        return String(decoding: plaintext, as: UTF8.self)
    }

    /// The embedded default's seal: `<directory>/signing-key-seal`, created owner-only on first
    /// start. One that exists but cannot be read or used stops start-up (``SecretFile``): a new
    /// seal would leave the stored signing keys unreadable.
    package static func loadOrCreate(in directory: String) throws -> SigningKeySeal {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("signing-key-seal").path
        let data = try SecretFile.loadOrCreate(at: path) { Data(generateBase64().utf8) }
        guard let seal = SigningKeySeal(base64: String(decoding: data, as: UTF8.self)) else {
            throw SecretFileError(path: path, problem: "does not hold 32 bytes of base64")
        }
        return seal
    }
}
