import Foundation
import ServerKit

/// When a project's vendors are settled without anyone asking: every day, week or month at a
/// wall-clock time in the agency's time zone.
struct SettlementSchedule: Sendable, Equatable {
    enum Cadence: String, Sendable, CaseIterable {
        case daily, weekly, monthly
    }

    var cadence: Cadence
    /// Minutes after local midnight.
    var minuteOfDay: Int
    /// ISO 8601 day of the week, 1 (Monday) to 7 (Sunday); weekly schedules only.
    var weekday: Int?
    /// 1 to 28, a day every month has; monthly schedules only.
    var dayOfMonth: Int?
    var timeZone: TimeZone

    /// `HH:MM`, as the API shows it.
    var at: String {
        let hour = minuteOfDay / 60
        let minute = minuteOfDay % 60
        return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    /// Checks what the API sent, naming every field that is wrong.
    static func validated(
        cadence: String, at: String, weekday: Int?, dayOfMonth: Int?, timeZone: String?
    ) throws -> SettlementSchedule {
        var violations: [FieldViolation] = []
        let parsedCadence = Cadence(rawValue: cadence)
        if parsedCadence == nil {
            violations.append(FieldViolation(field: "cadence", reason: "must be daily, weekly or monthly"))
        }
        let minute = minuteOfDay(at)
        if minute == nil {
            violations.append(FieldViolation(field: "at", reason: "must be a time of day as HH:MM, 00:00 to 23:59"))
        }
        switch (parsedCadence, weekday) {
        case (.weekly, nil):
            violations.append(FieldViolation(field: "weekday", reason: "is required for a weekly schedule"))
        case (.weekly, let day?) where !(1...7).contains(day):
            violations.append(FieldViolation(field: "weekday", reason: "must be a day of the week"))
        case (.daily, _?), (.monthly, _?):
            violations.append(FieldViolation(field: "weekday", reason: "is for weekly schedules only"))
        default: break
        }
        switch (parsedCadence, dayOfMonth) {
        case (.monthly, nil):
            violations.append(FieldViolation(field: "dayOfMonth", reason: "is required for a monthly schedule"))
        case (.monthly, let day?) where !(1...28).contains(day):
            violations.append(
                FieldViolation(field: "dayOfMonth", reason: "must be 1 to 28, so that every month has it"))
        case (.daily, _?), (.weekly, _?):
            violations.append(FieldViolation(field: "dayOfMonth", reason: "is for monthly schedules only"))
        default: break
        }
        let zone = (timeZone?.count ?? 0) <= 64 ? TimeZone(identifier: timeZone ?? "UTC") : nil
        if zone == nil {
            violations.append(
                FieldViolation(field: "timeZone", reason: "must be an IANA time zone such as Asia/Kathmandu"))
        }
        guard violations.isEmpty, let parsedCadence, let minute, let zone else {
            throw C2CError.invalidInput(violations)
        }
        return SettlementSchedule(
            cadence: parsedCadence, minuteOfDay: minute, weekday: weekday, dayOfMonth: dayOfMonth, timeZone: zone)
    }

    /// Minutes after midnight of `HH:MM`, or `nil`.
    static func minuteOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    /// The first time strictly after `date` the schedule falls on. A time the clocks skip (a
    /// daylight-saving gap) falls on the first minute after the gap.
    func nextRun(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var components = DateComponents(hour: minuteOfDay / 60, minute: minuteOfDay % 60, second: 0)
        switch cadence {
        case .daily: break
        // Foundation counts Sunday as 1.
        case .weekly: components.weekday = (weekday ?? 1) % 7 + 1
        case .monthly: components.day = dayOfMonth ?? 1
        }
        return calendar.nextDate(after: date, matching: components, matchingPolicy: .nextTime)
    }
}
