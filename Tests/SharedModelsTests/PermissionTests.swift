import Foundation
import SharedModels
import Testing

@Suite("Permissions")
struct PermissionTests {
    @Test("parses and prints the text form", arguments: ["beneficiary:read", "all:manage", "api_key:delete@p1"])
    func roundTrip(text: String) throws {
        let permission = try #require(Permission(text))
        #expect(permission.description == text)
    }

    @Test(
        "rejects malformed text",
        arguments: ["beneficiary", "beneficiary:", "ghost:read", "user:fly", "user:read@", ""])
    func rejects(text: String) {
        #expect(Permission(text) == nil)
    }

    @Test("manage implies every action, all every subject")
    func wildcards() {
        // given
        let manageUsers = PermissionSet([Permission(.user, .manage)])
        let admin = PermissionSet([Permission(.all, .manage)])
        // then
        #expect(manageUsers.allows(Permission(.user, .delete)))
        #expect(!manageUsers.allows(Permission(.role, .read)))
        #expect(admin.allows(Permission(.beneficiaryPII, .read, projectID: "p1")))
    }

    @Test("a project-scoped grant allows only inside its project")
    func scoped() {
        let set = PermissionSet([Permission(.beneficiary, .read, projectID: "a")])
        #expect(set.allows(Permission(.beneficiary, .read, projectID: "a")))
        #expect(!set.allows(Permission(.beneficiary, .read, projectID: "b")))
        #expect(!set.allows(Permission(.beneficiary, .read)))
        #expect(set.allowsAnywhere(.beneficiary, .read))
    }

    @Test("covers: delegating never escalates")
    func covers() {
        let manager = PermissionSet([Permission(.beneficiary, .manage), Permission(.user, .read, projectID: "a")])
        #expect(manager.covers(PermissionSet([Permission(.beneficiary, .read)])))
        #expect(manager.covers(PermissionSet([Permission(.user, .read, projectID: "a")])))
        #expect(!manager.covers(PermissionSet([Permission(.user, .read)])))
        #expect(!manager.covers(PermissionSet([Permission(.all, .read)])))
        #expect(!PermissionSet([Permission(.user, .read)]).covers(PermissionSet([Permission(.user, .manage)])))
    }
}

@Suite("Identifiers and cursors")
struct IdentifierTests {
    @Test("UUIDv7 carries version 7, the RFC variant, and sorts by time")
    func uuidV7() {
        let earlier = UUID.v7(at: Date(timeIntervalSince1970: 1_700_000_000))
        let later = UUID.v7(at: Date(timeIntervalSince1970: 1_700_000_001))
        let text = earlier.lowercasedString
        #expect(text[text.index(text.startIndex, offsetBy: 14)] == "7")
        #expect(["8", "9", "a", "b"].contains(text[text.index(text.startIndex, offsetBy: 19)]))
        #expect(earlier.lowercasedString < later.lowercasedString)
        #expect(earlier.lowercasedString.prefix(13) == "018bcfe5-6800")
    }

    @Test("the fast text form is exactly Foundation's, lower-cased, and the hex form is two digits a byte")
    func textForms() {
        for id in (0..<200).map({ _ in UUID() }) + [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))] {
            #expect(id.lowercasedString == id.uuidString.lowercased())
            #expect(UUID(uuidString: id.lowercasedString) == id)
        }
        #expect([0x00, 0x0f, 0xa0, 0xff].hexString == "000fa0ff")
        let v7 = (0..<50).map { _ in UUID.v7() }
        #expect(Set(v7).count == 50)
    }

    @Test("the fast parser reads the text form in either case, and nothing else")
    func parsing() {
        let ids = (0..<200).map { _ in UUID() } + [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))]
        for id in ids {
            #expect(UUID.parse(id.lowercasedString) == id)
            #expect(UUID.parse(id.uuidString) == id)
        }
        let text = "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6"
        let malformed = [
            "", String(text.dropLast()), text + "0", text.replacingOccurrences(of: "-", with: "_"),
            "0192f3a45-b6c-7d8e-9fa0-b1c2d3e4f5a6", "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5ag",
            "{0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a}", "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a\u{E9}",
            " 192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6", "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6\n",
        ]
        for candidate in malformed {
            // Foundation reads some of these (it scans hexadecimal, wherever the hyphens are); a
            // UUID is only ever sent in its text form.
            #expect(UUID.parse(candidate) == nil, "\(candidate)")
        }
        #expect(UUID.parse(text)?.lowercasedString == text)
        #expect(UUID.parse(text.uppercased())?.lowercasedString == text)
    }

    @Test("a cursor round-trips and rejects foreign text")
    func cursor() throws {
        let id = UUID.v7()
        let cursor = PageCursor(after: id)
        #expect(try #require(PageCursor<UUID>(encoded: cursor.encoded)).after == id)
        #expect(!cursor.encoded.contains("="))
        #expect(PageCursor<UUID>(encoded: "not-a-cursor") == nil)
        #expect(PageCursor<UUID>(encoded: "") == nil)
    }

    @Test("every kind of key has one encoding, and a cursor of one kind is refused as another")
    func cursorKinds() throws {
        let sequence = PageCursor<Int64>(after: 1_234_567_890_123)
        let job = PageCursor(after: "import-01a24732-4be3-7f15-b6d1-bf5f5cf7279c")
        let id = PageCursor(after: UUID.v7())
        #expect(PageCursor<Int64>(encoded: sequence.encoded)?.after == 1_234_567_890_123)
        #expect(PageCursor<String>(encoded: job.encoded)?.after == job.after)
        // Tag byte, then the key: the sequence is 9 bytes, big-endian after the tag.
        #expect(Data(base64URLEncoded: sequence.encoded) == Data([2, 0, 0, 1, 31, 113, 251, 4, 203]))
        #expect(PageCursor<UUID>(encoded: sequence.encoded) == nil)
        #expect(PageCursor<Int64>(encoded: id.encoded) == nil)
        #expect(PageCursor<String>(encoded: id.encoded) == nil)
        #expect(PageCursor<UUID>(encoded: job.encoded) == nil)
        // A negative sequence or an empty key was never handed out.
        #expect(PageCursor<Int64>(encoded: Data([2, 255, 0, 0, 0, 0, 0, 0, 1]).base64URLEncoded) == nil)
        #expect(PageCursor<String>(encoded: Data([3]).base64URLEncoded) == nil)
    }
}
