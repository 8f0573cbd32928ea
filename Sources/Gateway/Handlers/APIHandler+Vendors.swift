import CoreAPI
import Foundation
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listVendors(_ input: Operations.ListVendors.Input) async throws -> Operations.ListVendors.Output {
        let response = try await core.vendors.listVendors(
            .with {
                $0.page(limit: input.query.limit, cursor: input.query.cursor)
                if let project = input.query.projectId { $0.projectID = project }
                if let status = input.query.status { $0.status = status == .inactive ? .inactive : .active }
            },
            metadata: asCaller
        )
        let items = response.vendors.map(Components.Schemas.Vendor.init)
        return .ok(
            .init(body: .json(.init(items: items, nextCursor: response.next))))
    }

    func registerVendor(_ input: Operations.RegisterVendor.Input) async throws -> Operations.RegisterVendor.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let vendor = try await core.vendors.registerVendor(
            .with {
                $0.name = body.name
                if let phone = body.phone { $0.phone = phone }
                if let email = body.email { $0.email = email }
                if let password = body.password { $0.password = password }
                if let userID = body.userId { $0.userID = userID }
                if let location = body.location { $0.location = location }
                $0.payoutAccount = body.payoutAccount.proto
                if let country = body.country { $0.defaultCountry = country }
            },
            metadata: asCaller
        )
        return .created(.init(headers: .init(location: "/v1/vendors/\(vendor.id)"), body: .json(.init(vendor))))
    }

    func getVendor(_ input: Operations.GetVendor.Input) async throws -> Operations.GetVendor.Output {
        let vendor = try await core.vendors.getVendor(.with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(.init(vendor))))
    }

    func updateVendor(_ input: Operations.UpdateVendor.Input) async throws -> Operations.UpdateVendor.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let vendor = try await core.vendors.updateVendor(
            .with {
                $0.id = input.path.id
                if let name = body.name { $0.name = name }
                if let phone = body.phone { $0.phone = phone }
                if let location = body.location { $0.location = location }
                if let account = body.payoutAccount { $0.payoutAccount = account.proto }
                if let country = body.country { $0.defaultCountry = country }
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(.init(vendor))))
    }

    func deactivateVendor(
        _ input: Operations.DeactivateVendor.Input
    ) async throws -> Operations.DeactivateVendor.Output {
        let vendor = try await core.vendors.deactivateVendor(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(.init(vendor))))
    }

    func approvePayoutChange(
        _ input: Operations.ApprovePayoutChange.Input
    ) async throws -> Operations.ApprovePayoutChange.Output {
        let note: String? = if case .json(let body) = input.body { body.note } else { nil }
        return .ok(.init(body: .json(try await decidePayoutChange(input.path.id, approve: true, note: note))))
    }

    func rejectPayoutChange(
        _ input: Operations.RejectPayoutChange.Input
    ) async throws -> Operations.RejectPayoutChange.Output {
        let note: String? = if case .json(let body) = input.body { body.note } else { nil }
        return .ok(.init(body: .json(try await decidePayoutChange(input.path.id, approve: false, note: note))))
    }

    private func decidePayoutChange(
        _ id: String, approve: Bool, note: String?
    ) async throws
        -> Components.Schemas.Vendor
    {
        let vendor = try await core.vendors.decidePayoutChange(
            .with {
                $0.vendorID = id
                $0.approve = approve
                if let note { $0.note = note }
            }, metadata: asCaller)
        return .init(vendor)
    }

    func assignVendor(_ input: Operations.AssignVendor.Input) async throws -> Operations.AssignVendor.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let result = try await core.vendors.assignVendor(
            .with {
                $0.projectID = input.path.id
                $0.vendorID = body.vendorId
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(.init(assigned: result.assigned))))
    }

    func unassignVendor(_ input: Operations.UnassignVendor.Input) async throws -> Operations.UnassignVendor.Output {
        _ = try await core.vendors.unassignVendor(
            .with {
                $0.projectID = input.path.id
                $0.vendorID = input.path.vendorId
            },
            metadata: asCaller
        )
        return .noContent(.init())
    }
}

extension Components.Schemas.Vendor {
    init(_ vendor: Rahat_Core_V1_Vendor) {
        self.init(
            id: vendor.id,
            userId: vendor.userID,
            name: vendor.name,
            phone: vendor.hasPhone ? vendor.phone : nil,
            email: vendor.hasEmail ? vendor.email : nil,
            location: vendor.hasLocation ? vendor.location : nil,
            payoutAccount: .init(vendor.payoutAccount),
            status: vendor.status == .inactive ? .inactive : .active,
            projectIds: vendor.projectIds,
            createdAt: vendor.createdAt.date,
            updatedAt: vendor.updatedAt.date,
            deactivatedAt: vendor.hasDeactivatedAt ? vendor.deactivatedAt.date : nil,
            pendingPayoutChange: vendor.hasPendingPayoutChange
                ? .init(
                    id: vendor.pendingPayoutChange.id,
                    payoutAccount: .init(vendor.pendingPayoutChange.account),
                    requestedBy: vendor.pendingPayoutChange.requestedBy,
                    requestedAt: vendor.pendingPayoutChange.requestedAt.date)
                : nil
        )
    }
}

extension Components.Schemas.PayoutAccount {
    init(_ account: Rahat_Core_V1_PayoutAccount) {
        self.init(
            _type: account.type == .bank ? .bank : .mobileMoney,
            bankName: account.hasBankName ? account.bankName : nil,
            accountName: account.hasAccountName ? account.accountName : nil,
            accountNumber: account.hasAccountNumber ? account.accountNumber : nil,
            branch: account.hasBranch ? account.branch : nil,
            bic: account.hasBic ? account.bic : nil,
            provider: account.hasProvider ? account.provider : nil,
            mobileNumber: account.hasMobileNumber ? account.mobileNumber : nil
        )
    }

    var proto: Rahat_Core_V1_PayoutAccount {
        .with {
            $0.type = _type == .bank ? .bank : .mobileMoney
            if let bankName { $0.bankName = bankName }
            if let accountName { $0.accountName = accountName }
            if let accountNumber { $0.accountNumber = accountNumber }
            if let branch { $0.branch = branch }
            if let bic { $0.bic = bic }
            if let provider { $0.provider = provider }
            if let mobileNumber { $0.mobileNumber = mobileNumber }
        }
    }
}
