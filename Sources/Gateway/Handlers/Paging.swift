import AuthAPI
import C2CAPI
import CoreAPI
import LedgerAPI

/// A list RPC's request: how many items, and where the previous page ended.
protocol PagedRequest {
    var limit: Int32 { get set }
    var cursor: String { get set }
}

extension PagedRequest {
    /// Asks for the page a public list query names: `limit` items (`defaultLimit` unless it
    /// says), after `cursor`. The service checks the range and refuses a bad cursor.
    mutating func page(limit: Int?, cursor: String?, defaultLimit: Int = 50) {
        self.limit = Int32(clamping: limit ?? defaultLimit)
        if let cursor { self.cursor = cursor }
    }
}

/// A list RPC's answer, with a cursor when a next page exists.
protocol PagedResponse {
    var nextCursor: String { get }
    var hasNextCursor: Bool { get }
}

extension PagedResponse {
    /// The next page's cursor as the public API writes it: absent on the last page.
    var next: String? { hasNextCursor ? nextCursor : nil }
}

extension Rahat_Auth_V1_ListUsersRequest: PagedRequest {}
extension Rahat_Auth_V1_ListUsersResponse: PagedResponse {}
extension Rahat_C2c_V1_ListFundingsRequest: PagedRequest {}
extension Rahat_C2c_V1_ListFundingsResponse: PagedResponse {}
extension Rahat_C2c_V1_ListDisbursementsRequest: PagedRequest {}
extension Rahat_C2c_V1_ListDisbursementsResponse: PagedResponse {}
extension Rahat_C2c_V1_ListDisbursementLinesRequest: PagedRequest {}
extension Rahat_C2c_V1_ListDisbursementLinesResponse: PagedResponse {}
extension Rahat_C2c_V1_ListRedemptionsRequest: PagedRequest {}
extension Rahat_C2c_V1_ListRedemptionsResponse: PagedResponse {}
extension Rahat_C2c_V1_ListSettlementsRequest: PagedRequest {}
extension Rahat_C2c_V1_ListSettlementsResponse: PagedResponse {}
extension Rahat_Core_V1_ListBeneficiariesRequest: PagedRequest {}
extension Rahat_Core_V1_ListBeneficiariesResponse: PagedResponse {}
extension Rahat_Core_V1_ListGroupsRequest: PagedRequest {}
extension Rahat_Core_V1_ListGroupsResponse: PagedResponse {}
extension Rahat_Core_V1_ListGroupMembersRequest: PagedRequest {}
extension Rahat_Core_V1_ListGroupMembersResponse: PagedResponse {}
extension Rahat_Core_V1_ListImportsRequest: PagedRequest {}
extension Rahat_Core_V1_ListImportsResponse: PagedResponse {}
extension Rahat_Core_V1_ListEnrolmentsRequest: PagedRequest {}
extension Rahat_Core_V1_ListEnrolmentsResponse: PagedResponse {}
extension Rahat_Core_V1_ListProjectsRequest: PagedRequest {}
extension Rahat_Core_V1_ListProjectsResponse: PagedResponse {}
extension Rahat_Core_V1_ListVendorsRequest: PagedRequest {}
extension Rahat_Core_V1_ListVendorsResponse: PagedResponse {}
extension Rahat_Core_V1_ListVerificationsRequest: PagedRequest {}
extension Rahat_Core_V1_ListVerificationsResponse: PagedResponse {}
extension Rahat_Ledger_V1_ListStatementRequest: PagedRequest {}
extension Rahat_Ledger_V1_ListStatementResponse: PagedResponse {}
extension Rahat_Ledger_V1_ListTransfersRequest: PagedRequest {}
extension Rahat_Ledger_V1_ListTransfersResponse: PagedResponse {}
