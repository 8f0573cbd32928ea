import AuthAPI
import C2CAPI
import CoreAPI
import Foundation
import GRPCCore
import LedgerAPI
import Messaging
import Notifications
import Persistence
import SQLKit
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

@testable import C2CService

/// Vendor settlements over gRPC: a run per project, vendor → clearing by its job, payout files
/// checked against the official pain.001.001.09 XSD, and the bank's answer, on SQLite and PostgreSQL.
@Suite("Settlements")
struct SettlementTests {
    /// Redeems `amount` for the holder of `phone` at the vendor logged in as `vendor`.
    static func redeem(
        _ harness: ServiceHarness, _ sms: SmsCapture, vendor: String, login: Metadata, phone: String, amount: Int64
    ) async throws -> Rahat_C2c_V1_Redemption {
        let requested = try await harness.redemptions.requestRedemption(
            .with {
                $0.vendorID = vendor
                $0.phone = phone
                $0.amount = amount
            }, metadata: login)
        let code = try #require(sms.lastCode(to: phone))
        return try await harness.redemptions.confirmRedemption(
            .with {
                $0.id = requested.id
                $0.code = code
            }, metadata: login)
    }

    static func account(
        _ harness: ServiceHarness, _ shop: RedemptionTests.Shop, _ kind: Rahat_Ledger_V1_AccountKind,
        owner: String? = nil
    ) async throws -> Int64 {
        try await harness.balance(kind, project: shop.project, owner: owner, as: shop.admin) ?? 0
    }

    /// Polls until the run's job is done: every settlement out of pending and, when it pays
    /// anyone, the payout file written (the job's last step, after the moves).
    static func processed(
        _ harness: ServiceHarness, run: String, as caller: Metadata
    ) async throws -> [Rahat_C2c_V1_Settlement] {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let page = try await harness.settlements.listSettlements(.with { $0.runID = run }, metadata: caller)
            let moved = page.settlements.allSatisfy { $0.status != .pending }
            let paying = page.settlements.first { $0.status != .failed }
            var filed = true
            if moved, let paying {
                let file = await serviceFailure {
                    try await harness.settlements.getPayoutFile(
                        .with {
                            $0.settlementID = paying.id
                            $0.format = .csv
                        }, metadata: caller)
                }
                filed = file?.reason != "settlement.file_not_ready"
            }
            if moved && filed || ContinuousClock.now > deadline { return page.settlements }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The official schema's verdict on `xml`: `nil` when valid, else what it says is wrong.
    static func pain001Problems(_ xml: String) throws -> String? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pain001-\(UUID().uuidString).xml")
        try xml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import os, sys, sepaxml, xmlschema
            schema = xmlschema.XMLSchema(os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.09.xsd"))
            schema.validate(sys.argv[1])
            """,
            file.path,
        ]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : output
    }

    @Test(
        "a run settles each vendor's redemptions once; its payout files are valid pain.001 and CSV; paid goes out, failed comes back",
        arguments: DatabaseEngine.available)
    func settleAndAnswer(engine: DatabaseEngine) async throws {
        try await SmsCapture.with { sms in
            try await ServiceHarness.with(engine, runsJobs: true, sms: sms.sender) { harness in
                // given two vendors, one paid by mobile money, one by bank (IBAN and BIC), with
                // confirmed redemptions
                let shop = try await RedemptionTests.shop(harness)
                var bankVendor = RedemptionTests.vendor(
                    "Hari & Sons <Hardware>", "hari@example.org", "hari's passphrase")
                bankVendor.payoutAccount = .with {
                    $0.type = .bank
                    $0.bankName = "Nabil Bank"
                    $0.accountName = "Hari & Sons"
                    $0.accountNumber = "DE89 3704 0044 0532 0130 00"
                    $0.bic = "NARBNPKA"
                }
                let bank = try await harness.vendors.registerVendor(bankVendor, metadata: shop.admin)
                _ = try await harness.vendors.assignVendor(
                    .with {
                        $0.projectID = shop.project
                        $0.vendorID = bank.id
                    }, metadata: shop.admin)
                let bankLogin = ServiceHarness.bearer(
                    try await harness.login("hari@example.org", "hari's passphrase").accessToken)
                for amount in [1_000, 250] as [Int64] {
                    _ = try await Self.redeem(
                        harness, sms, vendor: shop.vendor, login: shop.vendorLogin, phone: shop.phones[0],
                        amount: amount)
                }
                _ = try await Self.redeem(
                    harness, sms, vendor: bank.id, login: bankLogin, phone: shop.phones[1], amount: 2_000)

                // when a run starts, twice at once
                let runs = await withTaskGroup(of: Result<Rahat_C2c_V1_SettlementRun, any Error>.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            do {
                                return .success(
                                    try await harness.settlements.createSettlements(
                                        .with { $0.projectID = shop.project }, metadata: shop.admin))
                            } catch {
                                return .failure(error)
                            }
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                let started = runs.compactMap { try? $0.get() }
                let run = try #require(started.first)
                let settlements = try await Self.processed(harness, run: run.id, as: shop.admin)
                let mobile = try #require(settlements.first { $0.vendorID == shop.vendor })
                let banked = try #require(settlements.first { $0.vendorID == bank.id })
                let csv = try await harness.settlements.getPayoutFile(
                    .with {
                        $0.settlementID = mobile.id
                        $0.format = .csv
                    }, metadata: shop.admin)
                let xml = try await harness.settlements.getPayoutFile(
                    .with {
                        $0.settlementID = mobile.id
                        $0.format = .pain001
                    }, metadata: shop.admin)
                let inClearing = try await Self.account(harness, shop, .settlementClearing)

                // then one run took every redemption; the other found nothing left
                #expect(started.count == 1)
                #expect(
                    runs.compactMap { result in
                        if case .failure(let error as RPCError) = result { return ServiceError(error).reason }
                        return nil
                    } == ["settlement.nothing_to_settle"])
                #expect(settlements.count == 2)
                #expect(mobile.amount == 1_250 && mobile.redemptionCount == 2 && mobile.status == .processing)
                #expect(banked.amount == 2_000 && banked.redemptionCount == 1 && banked.status == .processing)
                #expect(inClearing == 3_250)
                #expect(try await Self.account(harness, shop, .vendor, owner: shop.vendor) == 0)
                // the files: one credit transfer per vendor, valid against the official schema
                let document = String(decoding: xml.content, as: UTF8.self)
                #expect(try Self.pain001Problems(document) == nil)
                #expect(document.contains("<NbOfTxs>2</NbOfTxs><CtrlSum>32.50</CtrlSum>"))
                #expect(document.contains("<IBAN>DE89370400440532013000</IBAN>"))
                #expect(document.contains("<BICFI>NARBNPKA</BICFI>"))
                #expect(document.contains("<Nm>Hari &amp; Sons</Nm>"))
                #expect(document.contains(#"<InstdAmt Ccy="NPR">12.50</InstdAmt>"#))
                #expect(document.contains("<Id>+9779811112222</Id><SchmeNm><Prtry>MSISDN</Prtry></SchmeNm>"))
                #expect(document.contains("<EndToEndId>\(mobile.endToEndID)</EndToEndId>"))
                #expect(xml.contentType == "application/xml")
                let rows = String(decoding: csv.content, as: UTF8.self).split(separator: "\r\n")
                #expect(rows.count == 3)
                #expect(rows.first?.hasPrefix("end_to_end_id,settlement_id,vendor_id,vendor_name") == true)
                #expect(rows.contains { $0.contains(",Hari & Sons <Hardware>,bank,Nabil Bank,NARBNPKA,,Hari & Sons,") })
                #expect(rows.contains { $0.hasPrefix(mobile.endToEndID) && $0.contains(",12.50,NPR,2,") })
                // a vendor reads its own settlement, not another's, nor the run's file of everyone
                let own = try await harness.settlements.getSettlement(
                    .with { $0.id = mobile.id }, metadata: shop.vendorLogin)
                #expect(own.amount == 1_250)
                let others = await serviceFailure {
                    try await harness.settlements.getSettlement(.with { $0.id = banked.id }, metadata: shop.vendorLogin)
                }
                // answered as an unknown id is: another vendor's record confirms nothing
                #expect(others?.kind == .notFound)
                let file = await serviceFailure {
                    try await harness.settlements.getPayoutFile(
                        .with {
                            $0.settlementID = mobile.id
                            $0.format = .csv
                        }, metadata: shop.vendorLogin)
                }
                #expect(file?.kind == .permissionDenied)

                // when the bank pays one (the answer sent 50 times at once) and fails the other
                let paid = try await withThrowingTaskGroup(of: Rahat_C2c_V1_Settlement.self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            try await harness.settlements.confirmSettlement(
                                .with {
                                    $0.id = mobile.id
                                    $0.paid = true
                                    $0.payoutReference = "BANK-REF-1"
                                }, metadata: shop.admin)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let failed = try await harness.settlements.confirmSettlement(
                    .with {
                        $0.id = banked.id
                        $0.paid = false
                        $0.reason = "account closed"
                    }, metadata: shop.admin)
                let reversed = await serviceFailure {
                    try await harness.settlements.confirmSettlement(
                        .with {
                            $0.id = banked.id
                            $0.paid = true
                        }, metadata: shop.admin)
                }

                // then paid went out once, failed came back to the vendor and is settled again
                #expect(paid.allSatisfy { $0.status == .paid && $0.payoutReference == "BANK-REF-1" })
                #expect(failed.status == .failed && failed.failureReason == "account closed")
                #expect(reversed?.reason == "settlement.invalid_state")
                #expect(try await Self.account(harness, shop, .externalPayout) == 1_250)
                #expect(try await Self.account(harness, shop, .settlementClearing) == 0)
                #expect(try await Self.account(harness, shop, .vendor, owner: bank.id) == 2_000)
                // a paid settlement whose record was lost cannot then be failed back to the vendor
                let mobileID = try #require(UUID(uuidString: mobile.id))
                try await harness.c2cDatabase.sql.update("settlements").set("status", to: SQLBind("processing"))
                    .where("id", .equal, SQLBind(mobileID)).run()
                let contradicted = await serviceFailure {
                    try await harness.settlements.confirmSettlement(
                        .with {
                            $0.id = mobile.id
                            $0.paid = false
                            $0.reason = "bounced"
                        }, metadata: shop.admin)
                }
                #expect(contradicted?.reason == "settlement.invalid_state")
                #expect(try await Self.account(harness, shop, .vendor, owner: shop.vendor) == 0)
                _ = try await harness.settlements.confirmSettlement(
                    .with {
                        $0.id = mobile.id
                        $0.paid = true
                        $0.payoutReference = "BANK-REF-1"
                    }, metadata: shop.admin)
                #expect(try await Self.account(harness, shop, .externalPayout) == 1_250)
                let again = try await harness.settlements.createSettlements(
                    .with { $0.projectID = shop.project }, metadata: shop.admin)
                #expect(again.settlements.map(\.vendorID) == [bank.id])
                #expect(again.settlements.first?.amount == 2_000)
                let redeemed = try await harness.redemptions.listRedemptions(
                    .with { $0.vendorID = shop.vendor }, metadata: shop.admin)
                #expect(redeemed.redemptions.allSatisfy { $0.settlementID == mobile.id })
                let books = try await harness.ledger.reconcile(
                    .with { $0.projectID = shop.project }, metadata: shop.admin)
                #expect(books.balanced, "\(books)")
                #expect(try await harness.ledger.verifyChain(.init(), metadata: shop.admin).ok)
                let events = try await Outbox.pending(limit: 100, includingSent: true, on: harness.c2cDatabase.db)
                // paid, failed, and paid again after the simulated lost record (a real lost commit
                // loses its event with it)
                #expect(events.filter { $0.type == "rahat.c2c.settlement.completed" }.count == 3)
            }
        }
    }

    @Test("a run pays the account a vendor had when it started, not one approved after")
    func accountFixedAtStart() async throws {
        try await SmsCapture.with { sms in
            try await ServiceHarness.with(.sqlite, runsJobs: true, sms: sms.sender) { harness in
                // given a confirmed redemption at a vendor paid by mobile money, and a second admin
                let shop = try await RedemptionTests.shop(harness)
                _ = try await Self.redeem(
                    harness, sms, vendor: shop.vendor, login: shop.vendorLogin, phone: shop.phones[0], amount: 1_000)
                let second = try await harness.createUser(
                    email: "admin2@example.org", roles: [.role("admin")], as: try await harness.login().accessToken)
                _ = try await harness.vendors.updateVendor(
                    .with {
                        $0.id = shop.vendor
                        $0.phone = "+9779811113333"
                    }, metadata: shop.admin)
                let secondAdmin = ServiceHarness.bearer(second.tokens.accessToken)

                // when a run starts, and then the vendor's account is changed and approved
                let run = try await harness.settlements.createSettlements(
                    .with { $0.projectID = shop.project }, metadata: shop.admin)
                _ = try await harness.vendors.updateVendor(
                    .with {
                        $0.id = shop.vendor
                        $0.payoutAccount = .with {
                            $0.type = .mobileMoney
                            $0.provider = "Khalti"
                            $0.mobileNumber = "+9779800000001"
                        }
                    }, metadata: shop.admin)
                let changed = try await harness.vendors.decidePayoutChange(
                    .with {
                        $0.vendorID = shop.vendor
                        $0.approve = true
                    }, metadata: secondAdmin)
                let settlements = try await Self.processed(harness, run: run.id, as: shop.admin)
                let settlement = try #require(settlements.first { $0.vendorID == shop.vendor })
                let csv = try await harness.settlements.getPayoutFile(
                    .with {
                        $0.settlementID = settlement.id
                        $0.format = .csv
                    }, metadata: shop.admin)
                let text = String(decoding: csv.content, as: UTF8.self)

                // then the vendor is paid to the new account from now on, but this run to the old one
                #expect(changed.payoutAccount.mobileNumber == "+9779800000001")
                #expect(text.contains("9811112222"), "\(text)")
                #expect(!text.contains("9800000001"), "\(text)")
                #expect(sms.messages.contains { $0.to == "+9779811113333" && $0.body.contains("payout account") })
            }
        }
    }

    @Test("settling needs settlement:create and something to settle; the bank answers only what is in clearing")
    func refusals() async throws {
        try await SmsCapture.with { sms in
            try await ServiceHarness.with(.sqlite, sms: sms.sender) { harness in
                let shop = try await RedemptionTests.shop(harness)
                let empty = await serviceFailure {
                    try await harness.settlements.createSettlements(
                        .with { $0.projectID = shop.project }, metadata: shop.admin)
                }
                #expect(empty?.reason == "settlement.nothing_to_settle")
                let invalid = await serviceFailure {
                    try await harness.settlements.createSettlements(
                        .with {
                            $0.projectID = "project"
                            $0.vendorIds = ["x"]
                        }, metadata: shop.admin)
                }
                #expect(Set(invalid?.violations.map(\.field) ?? []) == ["projectId", "vendorIds[0]"])
                _ = try await Self.redeem(
                    harness, sms, vendor: shop.vendor, login: shop.vendorLogin, phone: shop.phones[0], amount: 900)
                let byVendor = await serviceFailure {
                    try await harness.settlements.createSettlements(
                        .with { $0.projectID = shop.project }, metadata: shop.vendorLogin)
                }
                #expect(byVendor?.kind == .permissionDenied)

                // jobs are not running: the run waits in pending
                let run = try await harness.settlements.createSettlements(
                    .with {
                        $0.projectID = shop.project
                        $0.vendorIds = [shop.vendor]
                    }, metadata: shop.admin)
                let settlement = try #require(run.settlements.first)
                let early = await serviceFailure {
                    try await harness.settlements.confirmSettlement(
                        .with {
                            $0.id = settlement.id
                            $0.paid = true
                        }, metadata: shop.admin)
                }
                let noFile = await serviceFailure {
                    try await harness.settlements.getPayoutFile(
                        .with {
                            $0.settlementID = settlement.id
                            $0.format = .pain001
                        }, metadata: shop.admin)
                }
                let noReason = await serviceFailure {
                    try await harness.settlements.confirmSettlement(
                        .with {
                            $0.id = settlement.id
                            $0.paid = false
                        }, metadata: shop.admin)
                }
                #expect(settlement.status == .pending)
                #expect(early?.reason == "settlement.invalid_state")
                #expect(noFile?.reason == "settlement.file_not_ready")
                #expect(noReason?.violations.map(\.field) == ["reason"])

                // once its job runs, the file is there
                let processed = try await harness.runningJobs {
                    try await Self.processed(harness, run: run.id, as: shop.admin)
                }
                #expect(processed.map(\.status) == [.processing])
                let file = try await harness.settlements.getPayoutFile(
                    .with {
                        $0.settlementID = settlement.id
                        $0.format = .pain001
                    }, metadata: shop.admin)
                #expect(try Self.pain001Problems(String(decoding: file.content, as: UTF8.self)) == nil)
            }
        }
    }
}

/// The pain.001 writer's limits, without a database.
@Suite("Payout files")
struct PayoutFileTests {
    @Test("only ISO currencies with at most 5 decimals go into pain.001; names are cut by code point")
    func limits() throws {
        #expect(PayoutFiles.painCarries(asset: "NPR", scale: 2))
        #expect(!PayoutFiles.painCarries(asset: "USDC", scale: 2))
        #expect(!PayoutFiles.painCarries(asset: "NPR", scale: 6))
        let line = PayoutLine(
            settlementID: UUID(), vendorID: UUID(), vendorName: String(repeating: "नमस्ते ", count: 40),
            account: PayoutAccount(kind: .mobileMoney, provider: "eSewa", mobileNumber: "+9779811112222"),
            amount: 123_456, redemptionCount: 1, periodStart: Date(), periodEnd: Date())
        let xml = PayoutFiles.pain001(
            runID: UUID(), createdAt: Date(), debtor: PayoutDebtor(name: "Agency & Co", account: "NP12345678"),
            lines: [line], asset: "NPR", scale: 2)
        #expect(try SettlementTests.pain001Problems(xml) == nil)
        #expect(xml.contains("<CtrlSum>1234.56</CtrlSum>"))
        #expect(xml.contains("<Nm>Agency &amp; Co</Nm>"))
    }
}
