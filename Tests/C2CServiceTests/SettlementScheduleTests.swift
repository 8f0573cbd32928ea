import C2CAPI
import Foundation
import GRPCCore
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

@testable import C2CService

/// Settlements on a schedule: when a schedule falls due, in the agency's time zone, and that a due
/// schedule starts one run per period through the worker, on SQLite and PostgreSQL.
@Suite("Settlement schedules")
struct SettlementScheduleTests {
    static func date(_ text: String) throws -> Date {
        try #require(try? Date(text, strategy: .iso8601), "\(text)")
    }

    static func schedule(
        _ cadence: String, _ at: String, weekday: Int? = nil, dayOfMonth: Int? = nil, zone: String
    ) throws -> SettlementSchedule {
        try SettlementSchedule.validated(
            cadence: cadence, at: at, weekday: weekday, dayOfMonth: dayOfMonth, timeZone: zone)
    }

    @Test("a schedule falls due at its local time, in the agency's time zone, across daylight saving")
    func nextRun() throws {
        let daily = try Self.schedule("daily", "18:00", zone: "Asia/Kathmandu")
        // 18:00 in Kathmandu is 12:15 UTC (+05:45); strictly after, so the time itself moves on a day.
        #expect(daily.nextRun(after: try Self.date("2026-11-27T10:00:00Z")) == (try Self.date("2026-11-27T12:15:00Z")))
        #expect(daily.nextRun(after: try Self.date("2026-11-27T12:15:00Z")) == (try Self.date("2026-11-28T12:15:00Z")))

        // 2026-11-27 is a Friday; weekday 1 is Monday.
        let weekly = try Self.schedule("weekly", "09:30", weekday: 1, zone: "UTC")
        #expect(weekly.nextRun(after: try Self.date("2026-11-27T10:00:00Z")) == (try Self.date("2026-11-30T09:30:00Z")))
        let sunday = try Self.schedule("weekly", "00:00", weekday: 7, zone: "UTC")
        #expect(sunday.nextRun(after: try Self.date("2026-11-27T10:00:00Z")) == (try Self.date("2026-11-29T00:00:00Z")))

        let monthly = try Self.schedule("monthly", "06:00", dayOfMonth: 28, zone: "UTC")
        #expect(
            monthly.nextRun(after: try Self.date("2026-11-28T06:00:00Z")) == (try Self.date("2026-12-28T06:00:00Z")))
        #expect(
            monthly.nextRun(after: try Self.date("2027-01-30T00:00:00Z")) == (try Self.date("2027-02-28T06:00:00Z")))

        // Berlin skips 02:00–03:00 on 2026-03-29: that night's 02:30 falls on 03:00 local (01:00 UTC);
        // the next is 02:30 CEST (00:30 UTC).
        let berlin = try Self.schedule("daily", "02:30", zone: "Europe/Berlin")
        #expect(berlin.nextRun(after: try Self.date("2026-03-28T12:00:00Z")) == (try Self.date("2026-03-29T01:00:00Z")))
        #expect(berlin.nextRun(after: try Self.date("2026-03-29T01:00:00Z")) == (try Self.date("2026-03-30T00:30:00Z")))
        #expect(daily.at == "18:00" && weekly.at == "09:30" && sunday.at == "00:00")
    }

    @Test("a schedule that cannot be kept is refused, every wrong field named")
    func validation() throws {
        func fields(_ body: () throws -> SettlementSchedule) -> [String] {
            do {
                _ = try body()
                return []
            } catch C2CError.invalidInput(let violations) {
                return violations.map(\.field)
            } catch {
                return ["\(error)"]
            }
        }
        #expect(fields { try Self.schedule("hourly", "24:00", zone: "Mars/Olympus") } == ["cadence", "at", "timeZone"])
        #expect(fields { try Self.schedule("weekly", "8:00", zone: "UTC") } == ["at", "weekday"])
        #expect(fields { try Self.schedule("weekly", "08:00", weekday: 8, zone: "UTC") } == ["weekday"])
        #expect(fields { try Self.schedule("monthly", "08:00", dayOfMonth: 31, zone: "UTC") } == ["dayOfMonth"])
        #expect(fields { try Self.schedule("monthly", "08:00", zone: "UTC") } == ["dayOfMonth"])
        #expect(
            fields { try Self.schedule("daily", "08:00", weekday: 1, dayOfMonth: 1, zone: "UTC") } == [
                "weekday", "dayOfMonth",
            ])
        #expect(fields { try Self.schedule("daily", "+1:+5", zone: "UTC") } == ["at"])
        #expect(fields { try Self.schedule("daily", "08:00", zone: String(repeating: "A", count: 65)) } == ["timeZone"])
        #expect(fields { try Self.schedule("daily", "08:00", zone: "Asia/Kathmandu") } == [])
    }

    @Test(
        "a due schedule starts one run per period through the worker, as its setter, and moves on a period",
        arguments: DatabaseEngine.available)
    func scheduledRuns(engine: DatabaseEngine) async throws {
        let clock = TestClock()
        var kathmandu = Calendar(identifier: .gregorian)
        kathmandu.timeZone = try #require(TimeZone(identifier: "Asia/Kathmandu"))
        let calendar = kathmandu
        try await SmsCapture.with { sms in
            try await ServiceHarness.with(engine, runsJobs: true, sms: sms.sender, now: clock.now) { harness in
                // given a vendor owed 1,000 from a confirmed redemption
                let shop = try await RedemptionTests.shop(harness)
                _ = try await SettlementTests.redeem(
                    harness, sms, vendor: shop.vendor, login: shop.vendorLogin, phone: shop.phones[0], amount: 1_000)
                // The clock moved to a few seconds before a whole minute, so the schedule falls
                // due while the test waits (a loaded machine takes a while to set it).
                let now = clock.now()
                let due = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60 + 120)
                clock.advance(by: due.timeIntervalSince(now) - 4)
                let local = calendar.dateComponents([.hour, .minute], from: due)
                let at = String(format: "%02d:%02d", local.hour ?? 0, local.minute ?? 0)
                let request = Rahat_C2c_V1_SetSettlementScheduleRequest.with {
                    $0.projectID = shop.project
                    $0.cadence = .daily
                    $0.at = at
                    $0.timeZone = "Asia/Kathmandu"
                }

                // when a vendor tries to schedule, and an admin schedules daily at the due minute
                let refused = await #expect(throws: RPCError.self) {
                    _ = try await harness.settlements.setSettlementSchedule(request, metadata: shop.vendorLogin)
                }
                #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
                let set = try await harness.settlements.setSettlementSchedule(request, metadata: shop.admin)
                var settlements: [Rahat_C2c_V1_Settlement] = []
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline {
                    settlements = try await harness.settlements.listSettlements(
                        .with { $0.projectID = shop.project }, metadata: shop.admin
                    ).settlements
                    if settlements.contains(where: { $0.status == .processing }) { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let after = try await harness.settlements.getSettlementSchedule(
                    .with { $0.projectID = shop.project }, metadata: shop.admin)

                // then the run started at the due time covers the redemption, and the schedule moved on a day
                #expect(set.nextRunAt.date == due, "\(set)")
                #expect(set.at == at && set.timeZone == "Asia/Kathmandu")
                #expect(settlements.count == 1, "\(settlements)")
                let settlement = try #require(settlements.first)
                #expect(settlement.status == .processing && settlement.amount == 1_000, "\(settlement)")
                #expect(settlement.createdBy == set.updatedBy)
                #expect(after.lastRunAt.date == due, "\(after)")
                #expect(after.lastRunID == settlement.runID)
                #expect(after.nextRunAt.date == due.addingTimeInterval(86_400))

                // and the same period again, as a job retried after a lost answer, starts nothing,
                // even with a new redemption owed
                _ = try await SettlementTests.redeem(
                    harness, sms, vendor: shop.vendor, login: shop.vendorLogin, phone: shop.phones[1], amount: 300)
                let domain = harness.c2c.domain
                let dueAt = C2CDomain.milliseconds(due)
                let projectID = try #require(UUID(uuidString: shop.project))
                #expect(try await domain.settlementScheduleFellDue(projectID, dueAt: dueAt) == nil)
                let userID = try #require(UUID(uuidString: set.updatedBy))
                #expect(try await domain.startScheduledRun(projectID, dueAt: dueAt, by: userID) == nil)
                let next = after.nextRunAt.date
                // the next period's run covers it
                let nextRun = try await domain.startScheduledRun(
                    projectID, dueAt: C2CDomain.milliseconds(next), by: userID)
                #expect(nextRun?.settlements.map(\.amount) == [300], "\(String(describing: nextRun))")

                // and set again by a clock still before the time that fell due, it waits for the
                // next period: a time that fell due is spent
                let back = due.timeIntervalSince(clock.now()) - 20
                clock.advance(by: back)
                let again = try await harness.settlements.setSettlementSchedule(request, metadata: shop.admin)
                clock.advance(by: -back)
                #expect(again.nextRunAt.date == due.addingTimeInterval(86_400), "\(again)")

                // and once deleted, its pending tick does nothing and the schedule reads as none
                _ = try await harness.settlements.deleteSettlementSchedule(
                    .with { $0.projectID = shop.project }, metadata: shop.admin)
                #expect(
                    try await domain.settlementScheduleFellDue(projectID, dueAt: C2CDomain.milliseconds(next)) == nil)
                let none = await #expect(throws: RPCError.self) {
                    _ = try await harness.settlements.getSettlementSchedule(
                        .with { $0.projectID = shop.project }, metadata: shop.admin)
                }
                #expect(none?.code == .notFound, "\(String(describing: none))")
            }
        }
    }
}
