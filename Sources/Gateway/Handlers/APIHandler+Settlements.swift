import C2CAPI
import Foundation
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listSettlements(
        _ input: Operations.ListSettlements.Input
    ) async throws -> Operations.ListSettlements.Output {
        let query = input.query
        let page = try await c2c.settlements.listSettlements(
            .with {
                if let project = query.projectId { $0.projectID = project }
                if let vendor = query.vendorId { $0.vendorID = vendor }
                if let run = query.runId { $0.runID = run }
                if let status = query.status { $0.status = Rahat_C2c_V1_SettlementStatus(status) }
                $0.page(limit: query.limit, cursor: query.cursor)
            },
            metadata: asCaller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try page.settlements.map(Components.Schemas.Settlement.init),
                        nextCursor: page.next))))
    }

    func createSettlements(
        _ input: Operations.CreateSettlements.Input
    ) async throws -> Operations.CreateSettlements.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let run = try await c2c.settlements.createSettlements(
            .with {
                $0.projectID = body.projectId
                $0.vendorIds = body.vendorIds ?? []
            },
            metadata: asCaller)
        return .accepted(
            .init(
                body: .json(
                    .init(
                        id: run.id, projectId: run.projectID, jobId: run.jobID,
                        settlements: try run.settlements.map(Components.Schemas.Settlement.init),
                        createdAt: run.createdAt.date))))
    }

    func getSettlement(_ input: Operations.GetSettlement.Input) async throws -> Operations.GetSettlement.Output {
        let found = try await c2c.settlements.getSettlement(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(found))))
    }

    func getPayoutFile(_ input: Operations.GetPayoutFile.Input) async throws -> Operations.GetPayoutFile.Output {
        let file = try await c2c.settlements.getPayoutFile(
            .with {
                $0.settlementID = input.path.id
                $0.format =
                    switch input.query.format {
                    case .csv: .csv
                    case .pain_001: .pain001
                    }
            },
            metadata: asCaller)
        let body = HTTPBody(file.content)
        return .ok(
            .init(
                headers: .init(contentDisposition: "attachment; filename=\"\(file.filename)\""),
                body: input.query.format == .csv ? .csv(body) : .xml(body)))
    }

    func confirmSettlement(
        _ input: Operations.ConfirmSettlement.Input
    ) async throws -> Operations.ConfirmSettlement.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let settlement = try await c2c.settlements.confirmSettlement(
            .with {
                $0.id = input.path.id
                $0.paid = body.status == .paid
                if let reference = body.payoutReference { $0.payoutReference = reference }
                if let reason = body.reason { $0.reason = reason }
            },
            metadata: asCaller)
        return .ok(.init(body: .json(try .init(settlement))))
    }
}

extension Rahat_C2c_V1_SettlementStatus {
    init(_ status: Components.Schemas.SettlementStatus) {
        self =
            switch status {
            case .pending: .pending
            case .processing: .processing
            case .paid: .paid
            case .failed: .failed
            }
    }
}

extension Components.Schemas.Settlement {
    init(_ record: Rahat_C2c_V1_Settlement) throws {
        let status: Components.Schemas.SettlementStatus =
            switch record.status {
            case .pending: .pending
            case .processing: .processing
            case .paid: .paid
            case .failed: .failed
            default: throw UnknownServiceValue(service: "project-c2c", value: "\(record.status)")
            }
        self.init(
            id: record.id, runId: record.runID, projectId: record.projectID, vendorId: record.vendorID,
            vendorName: record.vendorName, amount: record.amount, asset: record.asset,
            redemptionCount: record.redemptionCount, periodStart: record.periodStart.date,
            periodEnd: record.periodEnd.date, status: status,
            payoutReference: record.hasPayoutReference ? record.payoutReference : nil,
            failureReason: record.hasFailureReason ? record.failureReason : nil, endToEndId: record.endToEndID,
            createdBy: record.createdBy, createdAt: record.createdAt.date, updatedAt: record.updatedAt.date,
            completedAt: record.hasCompletedAt ? record.completedAt.date : nil)
    }
}

extension APIHandler {
    func getSettlementSchedule(
        _ input: Operations.GetSettlementSchedule.Input
    ) async throws -> Operations.GetSettlementSchedule.Output {
        let schedule = try await c2c.settlements.getSettlementSchedule(
            .with { $0.projectID = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(schedule))))
    }

    func setSettlementSchedule(
        _ input: Operations.SetSettlementSchedule.Input
    ) async throws -> Operations.SetSettlementSchedule.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let schedule = try await c2c.settlements.setSettlementSchedule(
            .with {
                $0.projectID = input.path.id
                $0.cadence =
                    switch body.cadence {
                    case .daily: .daily
                    case .weekly: .weekly
                    case .monthly: .monthly
                    }
                $0.at = body.at
                if let weekday = body.weekday {
                    $0.weekday = Int32(Components.Schemas.Weekday.allCases.firstIndex(of: weekday) ?? 0) + 1
                }
                if let day = body.dayOfMonth { $0.dayOfMonth = Int32(clamping: day) }
                if let zone = body.timeZone { $0.timeZone = zone }
            },
            metadata: asCaller)
        return .ok(.init(body: .json(try .init(schedule))))
    }

    func deleteSettlementSchedule(
        _ input: Operations.DeleteSettlementSchedule.Input
    ) async throws -> Operations.DeleteSettlementSchedule.Output {
        _ = try await c2c.settlements.deleteSettlementSchedule(
            .with { $0.projectID = input.path.id }, metadata: asCaller)
        return .noContent(.init())
    }
}

extension Components.Schemas.SettlementSchedule {
    init(_ record: Rahat_C2c_V1_SettlementSchedule) throws {
        let cadence: Components.Schemas.SettlementCadence =
            switch record.cadence {
            case .daily: .daily
            case .weekly: .weekly
            case .monthly: .monthly
            default: throw UnknownServiceValue(service: "project-c2c", value: "\(record.cadence)")
            }
        let days = Components.Schemas.Weekday.allCases
        self.init(
            projectId: record.projectID, cadence: cadence, at: record.at,
            // ISO 8601 numbers the days from Monday, as the schema lists them.
            weekday: record.hasWeekday && (1...days.count).contains(Int(record.weekday))
                ? days[Int(record.weekday) - 1] : nil,
            dayOfMonth: record.hasDayOfMonth ? Int(record.dayOfMonth) : nil, timeZone: record.timeZone,
            nextRunAt: record.nextRunAt.date, lastRunAt: record.hasLastRunAt ? record.lastRunAt.date : nil,
            lastRunId: record.hasLastRunID ? record.lastRunID : nil, createdBy: record.createdBy,
            createdAt: record.createdAt.date, updatedBy: record.updatedBy, updatedAt: record.updatedAt.date)
    }
}
