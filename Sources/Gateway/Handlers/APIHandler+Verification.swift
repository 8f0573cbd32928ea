import CoreAPI
import Foundation
import GRPCCore
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    /// What the core service takes in one message, with room.
    static let watchListMaxBytes = 4_000_000

    func listVerifications(
        _ input: Operations.ListVerifications.Input
    ) async throws -> Operations.ListVerifications.Output {
        let query = input.query
        let response = try await core.verification.listVerifications(
            .with {
                $0.page(limit: query.limit, cursor: query.cursor)
                if let status = query.status { $0.status = status.rawValue }
                if let beneficiary = query.beneficiaryId { $0.beneficiaryID = beneficiary }
                if let project = query.projectId { $0.projectID = project }
            },
            metadata: asCaller)
        let items = try response.verifications.map(Components.Schemas.Verification.init)
        return .ok(
            .init(body: .json(.init(items: items, nextCursor: response.next))))
    }

    func getVerification(_ input: Operations.GetVerification.Input) async throws -> Operations.GetVerification.Output {
        let found = try await core.verification.getVerification(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(found))))
    }

    func decideVerification(
        _ input: Operations.DecideVerification.Input
    ) async throws -> Operations.DecideVerification.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid(field: "body", "must be JSON") }
        let decided = try await core.verification.decideVerification(
            .with {
                $0.beneficiaryID = input.path.id
                $0.decision = body.decision.rawValue
                $0.note = body.note
            },
            metadata: asCaller)
        return .ok(.init(body: .json(try .init(decided))))
    }

    func getWatchList(_ input: Operations.GetWatchList.Input) async throws -> Operations.GetWatchList.Output {
        let list = try await core.verification.getWatchList(.init(), metadata: asCaller)
        return .ok(.init(body: .json(.init(list))))
    }

    func replaceWatchList(_ input: Operations.ReplaceWatchList.Input) async throws -> Operations.ReplaceWatchList.Output
    {
        guard case .csv(let body) = input.body else { throw ServiceError.invalid(field: "file", "must be text/csv") }
        // The list goes to the service in one message, so it is held whole, within a bound.
        var csv = Data()
        for try await chunk in body {
            csv.append(contentsOf: chunk)
            if csv.count > Self.watchListMaxBytes {
                throw ServiceError.invalid(field: "file", "must be at most \(Self.watchListMaxBytes) bytes")
            }
        }
        let list = try await core.verification.uploadWatchList(
            .with {
                $0.csv = csv
                if let name = input.query.fileName { $0.fileName = name }
                if let country = input.query.country { $0.defaultCountry = country }
            },
            metadata: asCaller)
        return .ok(.init(body: .json(.init(list))))
    }
}

extension Components.Schemas.Verification {
    init(_ found: Rahat_Core_V1_Verification) throws {
        guard let status = Components.Schemas.VerificationRunStatus(rawValue: found.status) else {
            throw ServiceError(.internalError, reason: "upstream.invalid", message: "Unknown verification status.")
        }
        self.init(
            id: found.id,
            beneficiaryId: found.beneficiaryID,
            status: status,
            checks: found.checks.map {
                .init(
                    rule: $0.rule, result: .init(rawValue: $0.result) ?? .skipped,
                    detail: $0.hasDetail ? $0.detail : nil)
            },
            reasons: found.reasons,
            requestedAt: found.requestedAt.date,
            checkedAt: found.hasCheckedAt ? found.checkedAt.date : nil,
            jobId: found.jobID,
            reviewerId: found.hasReviewerID ? found.reviewerID : nil,
            decision: found.hasDecision ? .init(rawValue: found.decision) : nil,
            note: found.hasNote ? found.note : nil,
            decidedAt: found.hasDecidedAt ? found.decidedAt.date : nil
        )
    }
}

extension Components.Schemas.WatchList {
    init(_ found: Rahat_Core_V1_WatchList) {
        self.init(
            id: found.hasID ? found.id : nil,
            entries: found.entries,
            fileName: found.hasFileName ? found.fileName : nil,
            uploadedBy: found.hasUploadedBy ? found.uploadedBy : nil,
            uploadedAt: found.hasUploadedAt ? found.uploadedAt.date : nil,
            rejected: found.rejected.map { .init(line: $0.line, reason: $0.reason) }
        )
    }
}
