import C2CAPI
import Foundation
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listRedemptions(
        _ input: Operations.ListRedemptions.Input
    ) async throws -> Operations.ListRedemptions.Output {
        let query = input.query
        let page = try await c2c.redemptions.listRedemptions(
            .with {
                if let project = query.projectId { $0.projectID = project }
                if let vendor = query.vendorId { $0.vendorID = vendor }
                if let beneficiary = query.beneficiaryId { $0.beneficiaryID = beneficiary }
                if let status = query.status { $0.status = Rahat_C2c_V1_RedemptionStatus(status) }
                $0.page(limit: query.limit, cursor: query.cursor)
            },
            metadata: asCaller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try page.redemptions.map(Components.Schemas.Redemption.init),
                        nextCursor: page.next))))
    }

    func requestRedemption(
        _ input: Operations.RequestRedemption.Input
    ) async throws -> Operations.RequestRedemption.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let requested = try await c2c.redemptions.requestRedemption(
            .with {
                $0.vendorID = body.vendorId
                if let beneficiary = body.beneficiaryId { $0.beneficiaryID = beneficiary }
                if let phone = body.phone { $0.phone = phone }
                if let country = body.defaultCountry { $0.defaultCountry = country }
                $0.amount = body.amount
                if let project = body.projectId { $0.projectID = project }
            },
            metadata: asCaller)
        let json = try Components.Schemas.Redemption(requested)
        return requested.replayed ? .ok(.init(body: .json(json))) : .created(.init(body: .json(json)))
    }

    func getRedemption(_ input: Operations.GetRedemption.Input) async throws -> Operations.GetRedemption.Output {
        let found = try await c2c.redemptions.getRedemption(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(found))))
    }

    func confirmRedemption(
        _ input: Operations.ConfirmRedemption.Input
    ) async throws -> Operations.ConfirmRedemption.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let confirmed = try await c2c.redemptions.confirmRedemption(
            .with {
                $0.id = input.path.id
                $0.code = body.code
            },
            metadata: asCaller)
        return .ok(.init(body: .json(try .init(confirmed))))
    }
}

extension Rahat_C2c_V1_RedemptionStatus {
    init(_ status: Components.Schemas.RedemptionStatus) {
        self =
            switch status {
            case .requested: .requested
            case .confirmed: .confirmed
            case .expired: .expired
            case .failed: .failed
            }
    }
}

extension Components.Schemas.Redemption {
    init(_ record: Rahat_C2c_V1_Redemption) throws {
        let status: Components.Schemas.RedemptionStatus =
            switch record.status {
            case .requested: .requested
            case .confirmed: .confirmed
            case .expired: .expired
            case .failed: .failed
            default: throw UnknownServiceValue(service: "project-c2c", value: "\(record.status)")
            }
        self.init(
            id: record.id, projectId: record.projectID, vendorId: record.vendorID, beneficiaryId: record.beneficiaryID,
            amount: record.amount, asset: record.asset, status: status, phoneHint: record.phoneHint,
            expiresAt: record.expiresAt.date, attemptsRemaining: Int(record.attemptsRemaining),
            transferId: record.hasTransferID ? record.transferID : nil,
            failureReason: record.hasFailureReason ? record.failureReason : nil,
            settlementId: record.hasSettlementID ? record.settlementID : nil, requestedBy: record.requestedBy,
            createdAt: record.createdAt.date, confirmedAt: record.hasConfirmedAt ? record.confirmedAt.date : nil,
            replayed: record.replayed)
    }
}
