import C2CAPI
import Foundation
import GRPCCore
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listDisbursements(
        _ input: Operations.ListDisbursements.Input
    ) async throws -> Operations.ListDisbursements.Output {
        let query = input.query
        let page = try await c2c.disbursements.listDisbursements(
            .with {
                if let project = query.projectId { $0.projectID = project }
                if let status = query.status { $0.status = Rahat_C2c_V1_DisbursementStatus(status) }
                $0.page(limit: query.limit, cursor: query.cursor)
            },
            metadata: asCaller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try page.disbursements.map(Components.Schemas.Disbursement.init),
                        nextCursor: page.next))))
    }

    func createDisbursement(
        _ input: Operations.CreateDisbursement.Input
    ) async throws -> Operations.CreateDisbursement.Output {
        let request: Rahat_C2c_V1_CreateDisbursementRequest
        var csvLines: [Int]?
        switch input.body {
        case .json(let body):
            request = Self.disbursementRequest(body)
        case .csv(let body):
            let query = input.query
            guard let projectID = query.projectId, let name = query.name else {
                throw ServiceError.invalid(
                    [query.projectId == nil ? "projectId" : nil, query.name == nil ? "name" : nil].compactMap { $0 }
                        .map { FieldViolation(field: $0, reason: "is required (a query parameter) with a CSV body") })
            }
            let rows = try await DisbursementCSV.rows(of: body)
            csvLines = rows.map(\.line)
            request = .with {
                $0.projectID = projectID
                $0.name = name
                if let reference = query.reference { $0.reference = reference }
                $0.lines = rows.map { row in
                    .with {
                        $0.beneficiaryID = row.beneficiaryID
                        $0.amount = row.amount
                    }
                }
            }
        }
        do {
            return try await createDisbursement(request, dryRun: input.query.dryRun == true)
        } catch let error as RPCError where error.code == .invalidArgument {
            // A CSV's problems are named by its line numbers, not by the list it became.
            guard let csvLines else { throw error }
            throw DisbursementCSV.renamed(ServiceError(error), lines: csvLines)
        }
    }

    private static func disbursementRequest(
        _ body: Components.Schemas.CreateDisbursement
    ) -> Rahat_C2c_V1_CreateDisbursementRequest {
        Rahat_C2c_V1_CreateDisbursementRequest.with {
            $0.projectID = body.projectId
            $0.name = body.name
            if let amount = body.amountPerBeneficiary { $0.amountPerBeneficiary = amount }
            if let group = body.groupId { $0.groupID = group }
            if let reference = body.reference { $0.reference = reference }
            if let filter = body.filter {
                $0.filter = .with {
                    if let value = filter.gender { $0.gender = value }
                    if let value = filter.bankedStatus { $0.bankedStatus = value }
                    if let value = filter.internetStatus { $0.internetStatus = value }
                    if let value = filter.phoneStatus { $0.phoneStatus = value }
                    if let value = filter.createdFrom { $0.createdFrom = Google_Protobuf_Timestamp(date: value) }
                    if let value = filter.createdTo { $0.createdTo = Google_Protobuf_Timestamp(date: value) }
                }
            }
            $0.lines = (body.lines ?? []).map { line in
                .with {
                    $0.beneficiaryID = line.beneficiaryId
                    $0.amount = line.amount
                }
            }
        }
    }

    private func createDisbursement(
        _ request: Rahat_C2c_V1_CreateDisbursementRequest, dryRun: Bool
    ) async throws -> Operations.CreateDisbursement.Output {
        if dryRun {
            let plan = try await c2c.disbursements.planDisbursement(request, metadata: asCaller)
            return .ok(.init(body: .json(.DisbursementPlan(.init(plan)))))
        }
        let created = try await c2c.disbursements.createDisbursement(request, metadata: asCaller)
        let json = try Components.Schemas.Disbursement(created)
        return created.replayed ? .ok(.init(body: .json(.Disbursement(json)))) : .created(.init(body: .json(json)))
    }

    func getDisbursement(_ input: Operations.GetDisbursement.Input) async throws -> Operations.GetDisbursement.Output {
        let found = try await c2c.disbursements.getDisbursement(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(found))))
    }

    func listDisbursementLines(
        _ input: Operations.ListDisbursementLines.Input
    ) async throws -> Operations.ListDisbursementLines.Output {
        let query = input.query
        let page = try await c2c.disbursements.listDisbursementLines(
            .with {
                $0.disbursementID = input.path.id
                if let status = query.status {
                    $0.status =
                        switch status {
                        case .pending: .pending
                        case .completed: .completed
                        case .failed: .failed
                        }
                }
                $0.page(limit: query.limit, cursor: query.cursor, defaultLimit: 100)
            },
            metadata: asCaller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try page.lines.map(Components.Schemas.DisbursementLine.init),
                        nextCursor: page.next))))
    }

    func submitDisbursement(
        _ input: Operations.SubmitDisbursement.Input
    ) async throws -> Operations.SubmitDisbursement.Output {
        let submitted = try await c2c.disbursements.submitDisbursement(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(submitted))))
    }

    func approveDisbursement(
        _ input: Operations.ApproveDisbursement.Input
    ) async throws -> Operations.ApproveDisbursement.Output {
        var note: String?
        if case .json(let body) = input.body { note = body.note }
        let decided = try await c2c.disbursements.approveDisbursement(
            .with {
                $0.id = input.path.id
                if let note { $0.note = note }
            }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(decided))))
    }

    func rejectDisbursement(
        _ input: Operations.RejectDisbursement.Input
    ) async throws -> Operations.RejectDisbursement.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let decided = try await c2c.disbursements.rejectDisbursement(
            .with {
                $0.id = input.path.id
                $0.note = body.note
            }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(decided))))
    }

    func cancelDisbursement(
        _ input: Operations.CancelDisbursement.Input
    ) async throws -> Operations.CancelDisbursement.Output {
        let cancelled = try await c2c.disbursements.cancelDisbursement(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(cancelled))))
    }

    func retryDisbursement(
        _ input: Operations.RetryDisbursement.Input
    ) async throws -> Operations.RetryDisbursement.Output {
        var lines: [Int64] = []
        if case .json(let body) = input.body { lines = body.lineNumbers ?? [] }
        let retried = try await c2c.disbursements.retryDisbursementLines(
            .with {
                $0.id = input.path.id
                $0.lineNumbers = lines
            }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(retried))))
    }
}

extension Rahat_C2c_V1_DisbursementStatus {
    init(_ status: Components.Schemas.DisbursementStatus) {
        self =
            switch status {
            case .draft: .draft
            case .pendingApproval: .pendingApproval
            case .approved: .approved
            case .processing: .processing
            case .completed: .completed
            case .partiallyFailed: .partiallyFailed
            case .rejected: .rejected
            case .cancelled: .cancelled
            }
    }
}

extension Components.Schemas.DisbursementStatus {
    init(_ status: Rahat_C2c_V1_DisbursementStatus) throws {
        self =
            switch status {
            case .draft: .draft
            case .pendingApproval: .pendingApproval
            case .approved: .approved
            case .processing: .processing
            case .completed: .completed
            case .partiallyFailed: .partiallyFailed
            case .rejected: .rejected
            case .cancelled: .cancelled
            default: throw UnknownServiceValue(service: "project-c2c", value: "\(status)")
            }
    }
}

extension Components.Schemas.DisbursementPlan {
    init(_ plan: Rahat_C2c_V1_DisbursementPlan) {
        self.init(
            projectId: plan.projectID, asset: plan.asset, lineCount: plan.lineCount, total: plan.total,
            excludedCounts: .init(additionalProperties: plan.excludedCounts),
            excluded: plan.excluded.map { exclusion in
                let reason: Components.Schemas.DisbursementPlan.ExcludedPayloadPayload.ReasonPayload =
                    switch exclusion.reason {
                    case .archived: .archived
                    case .notEnrolled: .notEnrolled
                    default: .unverified
                    }
                return .init(
                    beneficiaryId: exclusion.beneficiaryID, reason: reason,
                    verificationStatus: exclusion.hasVerificationStatus ? exclusion.verificationStatus : nil)
            },
            fundBalance: plan.fundBalance, fundSufficient: plan.fundSufficient)
    }
}

extension Components.Schemas.Disbursement {
    init(_ record: Rahat_C2c_V1_Disbursement) throws {
        self.init(
            id: record.id, projectId: record.projectID, name: record.name,
            status: try .init(record.status), asset: record.asset, total: record.total, lineCount: record.lineCount,
            amountPerBeneficiary: record.hasAmountPerBeneficiary ? record.amountPerBeneficiary : nil,
            groupId: record.hasGroupID ? record.groupID : nil, requiredApprovals: Int(record.requiredApprovals),
            approverIds: record.approverIds,
            approvals: record.approvals.map { approval in
                .init(
                    userId: approval.userID, approved: approval.approved, note: approval.hasNote ? approval.note : nil,
                    decidedAt: approval.decidedAt.date)
            },
            createdBy: record.createdBy, createdAt: record.createdAt.date, updatedAt: record.updatedAt.date,
            submittedAt: record.hasSubmittedAt ? record.submittedAt.date : nil,
            approvedAt: record.hasApprovedAt ? record.approvedAt.date : nil,
            completedAt: record.hasCompletedAt ? record.completedAt.date : nil,
            linesCompleted: record.linesCompleted, linesFailed: record.linesFailed,
            amountCompleted: record.amountCompleted, jobIds: record.jobIds,
            reference: record.hasReference ? record.reference : nil, replayed: record.replayed)
    }
}

extension Components.Schemas.DisbursementLine {
    init(_ line: Rahat_C2c_V1_DisbursementLine) throws {
        let status: Components.Schemas.DisbursementLineStatus =
            switch line.status {
            case .pending: .pending
            case .completed: .completed
            case .failed: .failed
            default: throw UnknownServiceValue(service: "project-c2c", value: "\(line.status)")
            }
        self.init(
            lineNumber: line.lineNumber, beneficiaryId: line.beneficiaryID, amount: line.amount, status: status,
            transferId: line.hasTransferID ? line.transferID : nil, attempts: Int(line.attempts),
            lastError: line.hasLastError ? line.lastError : nil)
    }
}
