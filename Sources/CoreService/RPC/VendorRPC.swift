import CoreAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.core.v1.VendorService` over the core domain.
struct VendorRPC: Rahat_Core_V1_VendorService.SimpleServiceProtocol {
    let domain: CoreDomain

    func registerVendor(
        request: Rahat_Core_V1_RegisterVendorRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Vendor {
        let vendor = try await domain.registerVendor(
            NewVendor(
                name: request.name,
                phone: request.hasPhone ? request.phone : nil,
                email: request.hasEmail ? request.email : nil,
                password: request.hasPassword ? request.password : nil,
                userID: request.hasUserID ? request.userID : nil,
                location: request.hasLocation ? request.location : nil,
                payoutAccount: PayoutAccount.Input(request.payoutAccount),
                defaultCountry: request.hasDefaultCountry ? request.defaultCountry : nil
            ),
            by: try await domain.caller()
        )
        return Rahat_Core_V1_Vendor(vendor)
    }

    func getVendor(request: Rahat_Core_V1_GetVendorRequest, context: ServerContext) async throws -> Rahat_Core_V1_Vendor
    {
        Rahat_Core_V1_Vendor(try await domain.getVendor(request.id, by: try await domain.caller()))
    }

    func listVendors(
        request: Rahat_Core_V1_ListVendorsRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_ListVendorsResponse {
        let (vendors, next) = try await domain.listVendors(
            limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil,
            projectID: request.hasProjectID ? request.projectID : nil,
            status: request.hasStatus ? (request.status == .inactive ? .inactive : .active) : nil,
            by: try await domain.caller()
        )
        return .with {
            $0.vendors = vendors.map(Rahat_Core_V1_Vendor.init)
            if let next { $0.nextCursor = next }
        }
    }

    func updateVendor(
        request: Rahat_Core_V1_UpdateVendorRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Vendor {
        let changes = VendorChanges(
            name: request.hasName ? request.name : nil,
            phone: request.hasPhone ? request.phone : nil,
            location: request.hasLocation ? request.location : nil,
            payoutAccount: request.hasPayoutAccount ? PayoutAccount.Input(request.payoutAccount) : nil,
            defaultCountry: request.hasDefaultCountry ? request.defaultCountry : nil
        )
        return Rahat_Core_V1_Vendor(
            try await domain.updateVendor(request.id, changes: changes, by: try await domain.caller()))
    }

    func decidePayoutChange(
        request: Rahat_Core_V1_DecidePayoutChangeRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Vendor {
        Rahat_Core_V1_Vendor(
            try await domain.decidePayoutChange(
                vendorID: request.vendorID, approve: request.approve, note: request.hasNote ? request.note : nil,
                by: try await domain.caller()))
    }

    func deactivateVendor(
        request: Rahat_Core_V1_DeactivateVendorRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Vendor {
        Rahat_Core_V1_Vendor(try await domain.deactivateVendor(request.id, by: try await domain.caller()))
    }

    func assignVendor(
        request: Rahat_Core_V1_AssignVendorRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_AssignVendorResponse {
        let assigned = try await domain.assignVendor(
            projectID: request.projectID, vendorID: request.vendorID, by: try await domain.caller())
        return .with { $0.assigned = assigned }
    }

    func unassignVendor(
        request: Rahat_Core_V1_UnassignVendorRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_UnassignVendorResponse {
        try await domain.unassignVendor(
            projectID: request.projectID, vendorID: request.vendorID, by: try await domain.caller())
        return Rahat_Core_V1_UnassignVendorResponse()
    }
}

extension PayoutAccount.Input {
    init(_ account: Rahat_Core_V1_PayoutAccount) {
        let type: String? =
            switch account.type {
            case .bank: "bank"
            case .mobileMoney: "mobile_money"
            default: nil
            }
        self.init(
            type: type,
            bankName: account.hasBankName ? account.bankName : nil,
            accountName: account.hasAccountName ? account.accountName : nil,
            accountNumber: account.hasAccountNumber ? account.accountNumber : nil,
            branch: account.hasBranch ? account.branch : nil,
            bic: account.hasBic ? account.bic : nil,
            provider: account.hasProvider ? account.provider : nil,
            mobileNumber: account.hasMobileNumber ? account.mobileNumber : nil
        )
    }
}

extension Rahat_Core_V1_Vendor {
    init(_ vendor: VendorInfo) {
        self = .with {
            $0.id = vendor.id.lowercasedString
            $0.userID = vendor.userID.lowercasedString
            $0.name = vendor.name
            if let phone = vendor.phone { $0.phone = phone }
            if let email = vendor.email { $0.email = email }
            if let location = vendor.location { $0.location = location }
            $0.payoutAccount = Rahat_Core_V1_PayoutAccount(vendor.payoutAccount)
            if let pending = vendor.pendingPayoutChange {
                $0.pendingPayoutChange = .with {
                    $0.id = pending.id.lowercasedString
                    $0.account = Rahat_Core_V1_PayoutAccount(pending.account)
                    $0.requestedBy = pending.requestedBy.lowercasedString
                    $0.requestedAt = Google_Protobuf_Timestamp(date: pending.requestedAt)
                }
            }
            $0.status = vendor.status == .active ? .active : .inactive
            $0.projectIds = vendor.projectIDs.map(\.lowercasedString)
            $0.createdAt = Google_Protobuf_Timestamp(date: vendor.createdAt)
            $0.updatedAt = Google_Protobuf_Timestamp(date: vendor.updatedAt)
            if let deactivated = vendor.deactivatedAt {
                $0.deactivatedAt = Google_Protobuf_Timestamp(date: deactivated)
            }
        }
    }
}

extension Rahat_Core_V1_PayoutAccount {
    init(_ account: PayoutAccount) {
        self = .with {
            switch account {
            case .bank(let bankName, let accountName, let accountNumber, let branch, let bic):
                $0.type = .bank
                $0.bankName = bankName
                $0.accountName = accountName
                $0.accountNumber = accountNumber
                if let branch { $0.branch = branch }
                if let bic { $0.bic = bic }
            case .mobileMoney(let provider, let number):
                $0.type = .mobileMoney
                $0.provider = provider
                $0.mobileNumber = number
            }
        }
    }
}
