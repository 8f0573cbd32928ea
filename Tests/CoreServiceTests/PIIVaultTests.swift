import Foundation
import Testing

@testable import CoreService

@Suite("PII vault")
struct PIIVaultTests {
    static func key(_ byte: UInt8) -> Data { Data(repeating: byte, count: 32) }

    @Test("values sealed under an old key still open after rotation; new values use the new key")
    func rotation() throws {
        // given
        let before = PIIVault(keys: PIIKeys(currentKeyID: "k1", keys: ["k1": Self.key(1)], indexKey: Self.key(9)))
        let sealed = try before.seal("+9779812345678", context: "beneficiary:a:phone")
        // when
        let after = PIIVault(
            keys: PIIKeys(currentKeyID: "k2", keys: ["k1": Self.key(1), "k2": Self.key(2)], indexKey: Self.key(9))
        )
        let resealed = try after.seal("+9779812345678", context: "beneficiary:a:phone")
        // then
        #expect(try after.open(sealed, context: "beneficiary:a:phone") == "+9779812345678")
        #expect(sealed.hasPrefix("k1."))
        #expect(resealed.hasPrefix("k2."))
        #expect(
            before.blindIndex("+9779812345678", purpose: "phone")
                == after.blindIndex("+9779812345678", purpose: "phone"))
    }

    @Test("a sealed value copied to another record or field does not open")
    func boundToContext() throws {
        let vault = PIIVault(keys: PIIKeys(currentKeyID: "k1", keys: ["k1": Self.key(1)], indexKey: Self.key(9)))
        let sealed = try vault.seal("Sita", context: "beneficiary:a:name")
        #expect(throws: (any Error).self) { try vault.open(sealed, context: "beneficiary:b:name") }
        #expect(throws: (any Error).self) { try vault.open(sealed, context: "beneficiary:a:email") }
        #expect(vault.blindIndex("123", purpose: "phone") != vault.blindIndex("123", purpose: "national_id"))
    }
}
