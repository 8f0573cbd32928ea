import FluentKit
import Testing

@testable import CoreService

/// The bulk insert bypasses the model, so it must name every column the model has.
@Suite("Bulk inserts")
struct BulkInsertTests {
    @Test("a beneficiary's bulk insert writes every column of the model, each once")
    func beneficiaryColumns() {
        let modelColumns = BeneficiaryRow.keys.map(\.description)
        #expect(Set(modelColumns) == Set(BeneficiaryRow.insertColumns))
        #expect(BeneficiaryRow.insertColumns.count == Set(BeneficiaryRow.insertColumns).count)
    }
}
