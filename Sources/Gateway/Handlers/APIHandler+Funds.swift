import C2CAPI
import Foundation
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func getProjectApprovers(
        _ input: Operations.GetProjectApprovers.Input
    ) async throws -> Operations.GetProjectApprovers.Output {
        let approvers = try await c2c.funds.getApprovers(
            .with { $0.projectID = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(.init(approvers))))
    }

    func setProjectApprovers(
        _ input: Operations.SetProjectApprovers.Input
    ) async throws -> Operations.SetProjectApprovers.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let approvers = try await c2c.funds.setApprovers(
            .with {
                $0.projectID = input.path.id
                $0.userIds = body.userIds
                $0.required = Int32(clamping: body.required)
            },
            metadata: asCaller)
        return .ok(.init(body: .json(.init(approvers))))
    }

    func recordProjectFunding(
        _ input: Operations.RecordProjectFunding.Input
    ) async throws -> Operations.RecordProjectFunding.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let funding = try await c2c.funds.recordFunding(
            .with {
                $0.projectID = input.path.id
                $0.amount = body.amount
                $0.reference = body.reference
                if let note = body.note { $0.note = note }
            },
            metadata: asCaller)
        let json = Components.Schemas.Funding(funding)
        return funding.replayed ? .ok(.init(body: .json(json))) : .created(.init(body: .json(json)))
    }

    func listProjectFundings(
        _ input: Operations.ListProjectFundings.Input
    ) async throws -> Operations.ListProjectFundings.Output {
        let page = try await c2c.funds.listFundings(
            .with {
                $0.projectID = input.path.id
                $0.page(limit: input.query.limit, cursor: input.query.cursor)
            },
            metadata: asCaller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.fundings.map(Components.Schemas.Funding.init),
                        nextCursor: page.next))))
    }
}

extension Components.Schemas.ProjectApprovers {
    init(_ approvers: Rahat_C2c_V1_Approvers) {
        self.init(
            projectId: approvers.projectID, userIds: approvers.userIds, required: Int(approvers.required),
            updatedAt: approvers.hasUpdatedAt ? approvers.updatedAt.date : nil,
            updatedBy: approvers.hasUpdatedBy ? approvers.updatedBy : nil)
    }
}

extension Components.Schemas.Funding {
    init(_ funding: Rahat_C2c_V1_Funding) {
        self.init(
            id: funding.id, projectId: funding.projectID, amount: funding.amount, asset: funding.asset,
            reference: funding.reference, note: funding.hasNote ? funding.note : nil, transferId: funding.transferID,
            createdBy: funding.createdBy, createdAt: funding.createdAt.date, replayed: funding.replayed)
    }
}
