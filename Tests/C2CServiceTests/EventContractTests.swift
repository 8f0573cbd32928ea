import C2CAPI
import CoreAPI
import Foundation
import Messaging
import Persistence
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// project-c2c's events are messages of `events.proto`: what the outbox held before they were typed
/// must still read, and what is written now must read as it did for a consumer of the old shape.
@Suite("Event contracts")
struct EventContractTests {
    static let disbursement = "0193a0c4-7b1e-7c21-9d5a-1f2e3d4c5b6a"
    static let project = "0193a0c4-7b1e-7c21-9d5a-1f2e3d4c5b6b"
    static let beneficiary = "0193a0c4-7b1e-7c21-9d5a-1f2e3d4c5b6c"

    /// A paid batch as c2c wrote it before its events were typed.
    static let legacyPayload: [String: OutboxValue] = [
        "disbursementId": .string(disbursement), "projectId": .string(project), "asset": .string("NPR"),
        "amount": .int(250_000),
        "payments": .array([.object(["line": .int(1), "beneficiaryId": .string(beneficiary), "amount": .int(250_000)])]
        ),
    ]

    static let message = Rahat_C2c_V1_FundDisbursed.with {
        $0.disbursementID = disbursement
        $0.projectID = project
        $0.asset = "NPR"
        $0.amount = 250_000
        $0.payments = [
            .with {
                $0.line = 1
                $0.beneficiaryID = beneficiary
                $0.amount = 250_000
            }
        ]
    }

    @Test(
        "a batch event written before events were typed reads as its message, and a typed one writes the same data",
        arguments: DatabaseEngine.available)
    func fundDisbursedReadsBothWays(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let now = Date()
            let legacy = OutboxEvent(
                type: "rahat.c2c.fund.disbursed", aggregateType: "disbursement", aggregateID: Self.disbursement,
                payload: Self.legacyPayload, occurredAt: now)
            let typed = try OutboxEvent(
                topic: Rahat_C2c_V1_FundDisbursed.topic, payload: Self.message, aggregateType: "disbursement",
                aggregateID: Self.disbursement, occurredAt: now)
            // The same names, and integers still JSON numbers: a consumer of the old shape reads it.
            #expect(typed.type == legacy.type)
            #expect(typed.payload == Self.legacyPayload)
            try await Outbox.append([legacy, typed], on: harness.c2cDatabase.db)
            let stored = try await Outbox.pending(limit: 10, includingSent: true, on: harness.c2cDatabase.db)
            #expect(stored.count == 2)
            for event in stored {
                let received = try ReceivedEvent(json: event.json)
                #expect(try received.payload(as: Rahat_C2c_V1_FundDisbursed.self) == Self.message)
            }
        }
    }

    @Test("fields set to zero or empty are written as they were before events were typed; unset ones are not")
    func zeroesAndEmptiesAreWritten() throws {
        let now = Date()
        let completed = try OutboxEvent(
            topic: Rahat_C2c_V1_DisbursementCompleted.topic,
            payload: Rahat_C2c_V1_DisbursementCompleted.with {
                $0.disbursementID = Self.disbursement
                $0.projectID = Self.project
                $0.status = "partially_failed"
                $0.round = 1
                $0.linesCompleted = 0
                $0.linesFailed = 3
                $0.amountCompleted = 0
                $0.asset = "NPR"
            }, aggregateType: "disbursement", aggregateID: Self.disbursement, occurredAt: now)
        #expect(
            completed.payload == [
                "disbursementId": .string(Self.disbursement), "projectId": .string(Self.project),
                "status": .string("partially_failed"), "round": .int(1), "linesCompleted": .int(0),
                "linesFailed": .int(3), "amountCompleted": .int(0), "asset": .string("NPR"),
            ])
        let created = try OutboxEvent(
            topic: Rahat_Core_V1_BeneficiaryChanged.created,
            payload: Rahat_Core_V1_BeneficiaryChanged.with {
                $0.beneficiaryID = Self.beneficiary
                $0.verificationStatus = "unverified"
                $0.changedFields = []
            }, keepingEmpty: ["changedFields"], aggregateType: "beneficiary", aggregateID: Self.beneficiary,
            occurredAt: now)
        #expect(
            created.payload == [
                "beneficiaryId": .string(Self.beneficiary), "verificationStatus": .string("unverified"),
                "changedFields": .array([]),
            ])
        // An import of no project: the key stays absent, as it was.
        let finished = try OutboxEvent(
            topic: Rahat_Core_V1_ImportFinished.completed,
            payload: Rahat_Core_V1_ImportFinished.with {
                $0.importID = Self.disbursement
                $0.status = "completed"
                $0.rows = 2
                $0.created = 2
                $0.updated = 0
                $0.duplicates = 0
                $0.rejected = 0
            }, aggregateType: "import", aggregateID: Self.disbursement, occurredAt: now)
        #expect(finished.payload["projectId"] == nil && finished.payload["error"] == nil)
        #expect(finished.payload["rejected"] == .int(0) && finished.payload["updated"] == .int(0))
    }

    @Test("a field the consumer does not know is skipped; data of another shape is refused as undecodable")
    func unknownFieldsAndWrongShapes() throws {
        func envelope(_ data: String) -> String {
            """
            {"id":"0193a0c4-7b1e-7c21-9d5a-1f2e3d4c5b6d","type":"rahat.c2c.fund.disbursed","version":1,\
            "occurredAt":"2026-12-05T10:00:00Z","aggregateType":"disbursement",\
            "aggregateId":"\(Self.disbursement)","data":\(data)}
            """
        }
        let newer = try ReceivedEvent(
            json: envelope(#"{"disbursementId":"\#(Self.disbursement)","amount":"7","addedLater":{"x":[1,2]}}"#))
        let read = try newer.payload(as: Rahat_C2c_V1_FundDisbursed.self)
        #expect(read.amount == 7 && read.disbursementID == Self.disbursement)

        let wrong = try ReceivedEvent(json: envelope(#"{"amount":"seven"}"#))
        #expect(throws: EventDecodingError.self) { try wrong.payload(as: Rahat_C2c_V1_FundDisbursed.self) }
        let notAnObject = try ReceivedEvent(json: envelope(#"[1,2,3]"#))
        #expect(throws: EventDecodingError.self) { try notAnObject.payload(as: Rahat_C2c_V1_FundDisbursed.self) }
    }
}
