import AuthAPI
import CoreAPI
import Foundation
import GRPCCore
import Persistence
import SQLKit
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

@testable import CoreService

/// Finding beneficiaries by the words of their sealed names.
@Suite("Name search")
struct NameSearchTests {
    /// The names of those a search by `name` finds, sorted.
    static func found(
        _ name: String, in harness: ServiceHarness, as caller: Metadata,
        configure: (inout Rahat_Core_V1_ListBeneficiariesRequest) -> Void = { _ in }
    ) async throws -> [String] {
        var request = Rahat_Core_V1_ListBeneficiariesRequest.with { $0.name = name }
        configure(&request)
        return try await harness.beneficiaries.listBeneficiaries(request, metadata: caller).beneficiaries
            .map(\.pii.name).sorted()
    }

    @Test(
        "finds people by whole words of their name in any order, case and accents aside",
        arguments: DatabaseEngine.available)
    func words(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given people registered one by one and in a batch
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let sita = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = BeneficiaryTests.person("Sita Kumari Tharu") }, metadata: admin)
            let batch = try await harness.beneficiaries.createBeneficiaries(
                .with {
                    $0.beneficiaries = ["Sita Rai", "Ram Bahadur Thapa", "José Núñez", "सीता थारु", "Rai, Sita"].map {
                        BeneficiaryTests.person($0)
                    }
                },
                metadata: admin)
            let ram = try #require(batch.beneficiaries.first { $0.pii.name == "Ram Bahadur Thapa" })
            // when
            let sitas = try await Self.found("sita", in: harness, as: admin)
            let reordered = try await Self.found("THARU  sita", in: harness, as: admin)
            let accented = try await Self.found("jose nunez", in: harness, as: admin)
            let devanagari = try await Self.found("सीता", in: harness, as: admin)
            let partial = try await Self.found("Sit", in: harness, as: admin)
            let notAll = try await Self.found("sita thapa", in: harness, as: admin)
            let firstPage = try await harness.beneficiaries.listBeneficiaries(
                .with {
                    $0.name = "sita rai"
                    $0.limit = 1
                }, metadata: admin)
            let secondPage = try await harness.beneficiaries.listBeneficiaries(
                .with {
                    $0.name = "sita rai"
                    $0.limit = 1
                    $0.cursor = firstPage.nextCursor
                }, metadata: admin)
            _ = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = sita.id
                    $0.changes.name = "Gita Kumari Tharu"
                    $0.fields = ["name"]
                }, metadata: admin)
            _ = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = ram.id
                    $0.changes.bankedStatus = "banked"
                    $0.fields = ["bankedStatus"]
                }, metadata: admin)
            let renamedOld = try await Self.found("sita tharu", in: harness, as: admin)
            let renamedNew = try await Self.found("gita tharu", in: harness, as: admin)
            let untouched = try await Self.found("thapa", in: harness, as: admin)
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = ram.id }, metadata: admin)
            let archived = try await Self.found("thapa", in: harness, as: admin)
            let stored = try await harness.coreDatabase.sql.raw("SELECT word_index FROM beneficiary_name_words").all()
                .map { try $0.decode(column: "word_index", as: String.self) }
            // then
            #expect(sitas == ["Rai, Sita", "Sita Kumari Tharu", "Sita Rai"])
            #expect(reordered == ["Sita Kumari Tharu"])
            #expect(accented == ["José Núñez"])
            #expect(devanagari == ["सीता थारु"])
            #expect(partial.isEmpty, "whole words only")
            #expect(notAll.isEmpty, "every word must be in the name")
            #expect(firstPage.beneficiaries.count == 1)
            #expect(secondPage.beneficiaries.count == 1)
            #expect(
                Set((firstPage.beneficiaries + secondPage.beneficiaries).map(\.pii.name)) == ["Sita Rai", "Rai, Sita"])
            #expect(renamedOld.isEmpty, "a new name's words replace the old name's")
            #expect(renamedNew == ["Gita Kumari Tharu"])
            #expect(untouched == ["Ram Bahadur Thapa"], "a change that keeps the name keeps its words")
            #expect(archived.isEmpty)
            // 3 + 2 + 3 + 2 + 2 + 2 words, each stored once per person, none readable.
            #expect(stored.count == 14)
            #expect(stored.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
        }
    }

    @Test(
        "finding by name reads personal data, and a name without words is refused", arguments: DatabaseEngine.available)
    func permissionAndValidation(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let adminToken = try await harness.login().accessToken
            let admin = ServiceHarness.bearer(adminToken)
            _ = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = BeneficiaryTests.person("Hari Bahadur") }, metadata: admin)
            let analyst = try await harness.createUser(
                holding: "analyst", permissions: ["beneficiary:read"], as: adminToken)
            // when
            let refused = await serviceFailure {
                try await Self.found("hari", in: harness, as: ServiceHarness.bearer(analyst.accessToken))
            }
            let noWords = await serviceFailure { try await Self.found(" -- ", in: harness, as: admin) }
            let tooMany = await serviceFailure {
                try await Self.found("a b c d e f g h i", in: harness, as: admin)
            }
            // then
            #expect(refused?.kind == .permissionDenied)
            #expect(noWords?.violations.map(\.field) == ["name"])
            #expect(tooMany?.violations.map(\.field) == ["name"])
        }
    }

    @Test(
        "names without stored words, registered earlier or renamed by an older writer, are indexed by the sweep",
        arguments: DatabaseEngine.available)
    func sweep(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given people whose words were never stored, as before names were indexed, one of
            // them with no word in their name and one whose sealed name does not open
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let people = try await harness.beneficiaries.createBeneficiaries(
                .with {
                    $0.beneficiaries =
                        (1...7).map { BeneficiaryTests.person("Person \($0) Gurung") } + [BeneficiaryTests.person("?")]
                }, metadata: admin)
            let damaged = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = BeneficiaryTests.person("Damaged Gurung") }, metadata: admin)
            let sql = harness.coreDatabase.sql
            try await sql.raw("DELETE FROM beneficiary_name_words").run()
            let damagedID = try #require(UUID(uuidString: damaged.id))
            try await sql.raw(
                "UPDATE beneficiaries SET name_sealed = \(bind: "k0.AAAA") WHERE id = \(bind: damagedID)"
            ).run()
            let before = try await Self.found("gurung", in: harness, as: admin)
            // when
            let indexed = try await harness.core.domain.indexNameWords(batch: 3)
            let after = try await Self.found("gurung", in: harness, as: admin)
            let again = try await harness.core.domain.indexNameWords(batch: 3)
            // and one renamed by a writer that stores no words
            let renamed = try #require(people.beneficiaries.first)
            let sealed = try harness.core.domain.vault.seal(
                "Maya Gurung", context: "beneficiary:\(renamed.id):name")
            let renamedID = try #require(UUID(uuidString: renamed.id))
            try await sql.raw(
                "UPDATE beneficiaries SET name_sealed = \(bind: sealed) WHERE id = \(bind: renamedID)"
            ).run()
            let oldNameRightAfter = try await Self.found("person 1", in: harness, as: admin)
            let next = try await harness.core.domain.indexNameWords()
            let newName = try await Self.found("maya", in: harness, as: admin)
            // then
            #expect(before.isEmpty)
            #expect(indexed == 8, "every name that opens, the one without words too")
            #expect(after.count == 7, "the damaged name holds up none of the others")
            #expect(again == 0, "nothing is left to index: a name without words is not read again")
            #expect(oldNameRightAfter.isEmpty, "writing the sealed name drops the old words, whoever writes it")
            #expect(next == 1)
            #expect(newName == ["Maya Gurung"])
        }
    }
}
