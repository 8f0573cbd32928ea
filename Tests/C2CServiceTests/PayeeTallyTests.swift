import Foundation
import ServerKit
import SharedModels
import Testing

@testable import C2CService

/// What a plan keeps of a roster as it streams.
@Suite("PayeeTally")
struct PayeeTallyTests {
    static func entry(_ verificationStatus: String, enrolled: Bool = true) -> RosterEntry {
        RosterEntry(
            beneficiaryID: UUID.v7(), enrolled: enrolled, verificationStatus: verificationStatus,
            verified: verificationStatus == "verified", archived: false)
    }

    @Test("a roster paying more than a disbursement may is refused at the first payee past the limit")
    func refusedPastTheLimit() throws {
        // given a tally that has taken in as many payees as a disbursement may pay
        var tally = PayeeTally(amount: 500, namesOutsiders: true)
        for _ in 0..<C2CDomain.maxLines { try tally.add(Self.entry("verified")) }

        // when: one more payee, and someone left out
        try tally.add(Self.entry("pending"))
        let refusal = #expect(throws: C2CError.self) { try tally.add(Self.entry("verified")) }

        // then: what was gathered stops at the limit
        #expect(tally.lines.count == C2CDomain.maxLines)
        #expect(tally.lines.allSatisfy { $0.amount == 500 })
        guard case .invalidInput(let violations) = refusal else {
            Issue.record("refused with \(String(describing: refusal))")
            return
        }
        #expect(violations.map(\.field) == ["amountPerBeneficiary"])
        #expect(violations.first?.reason.contains("more than \(C2CDomain.maxLines)") == true)
    }

    @Test("those left out are all counted, the first thousand named, outsiders only to registry readers")
    func exclusionsCountedNamedFirst() throws {
        // given
        var registryReader = PayeeTally(amount: 1, namesOutsiders: true)
        var projectReader = PayeeTally(amount: 1, namesOutsiders: false)
        let unverified = (0..<(C2CDomain.shownExclusions + 500)).map { _ in Self.entry("pending") }
        let outsider = Self.entry("verified", enrolled: false)

        // when
        for tally in [0, 1] {
            try (tally == 0 ? registryReader.add(outsider) : projectReader.add(outsider))
            for entry in unverified {
                try (tally == 0 ? registryReader.add(entry) : projectReader.add(entry))
            }
        }

        // then
        #expect(registryReader.counts[.unverified] == Int64(unverified.count))
        #expect(registryReader.counts[.notEnrolled] == 1)
        #expect(registryReader.excluded.count == C2CDomain.shownExclusions)
        #expect(registryReader.excluded.first?.beneficiaryID == outsider.beneficiaryID)
        #expect(registryReader.excluded.last?.verificationStatus == "pending")
        #expect(projectReader.counts[.notEnrolled] == 1)
        #expect(projectReader.excluded.count == C2CDomain.shownExclusions)
        #expect(projectReader.excluded.allSatisfy { $0.reason == .unverified })
        #expect(projectReader.lines.isEmpty)
    }
}
