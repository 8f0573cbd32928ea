import AuthAPI
import C2CAPI
import CoreAPI
import Foundation
import GRPCCore
import LedgerAPI
import Notifications
import Persistence
import SQLKit
import ServerKit
import SwiftProtobuf
import Synchronization
import TestInfrastructure
import TestSupport
import Testing

/// Redemptions at vendors over gRPC: the code goes by SMS (to a local gateway that keeps it), the
/// vendor confirms it, value moves wallet → vendor once, on SQLite and PostgreSQL.
@Suite("Redemptions")
struct RedemptionTests {
    /// An active project whose two beneficiaries with phones hold 5,000 each (a third has no
    /// phone), and a vendor assigned to it, logged in.
    struct Shop: Sendable {
        var project: String
        var admin: Metadata
        var phones: [String]
        var noPhone: String
        var vendor: String
        var vendorLogin: Metadata
    }

    static let phones = ["+9779812000001", "+9779812000002"]

    static func shop(_ harness: ServiceHarness) async throws -> Shop {
        let admin = ServiceHarness.bearer(try await harness.login().accessToken)
        let project = try await ProjectFundsTests.newProject(on: harness, as: admin)
        _ = try await harness.projects.activateProject(.with { $0.id = project }, metadata: admin)
        _ = try await harness.funds.recordFunding(ProjectFundsTests.funding(project, 100_000), metadata: admin)
        let created = try await harness.beneficiaries.createBeneficiaries(
            .with {
                $0.beneficiaries =
                    phones.map { phone in
                        .with {
                            $0.name = "Holder \(phone.suffix(1))"
                            $0.phone = phone
                        }
                    } + [.with { $0.name = "No Phone" }]
            }, metadata: admin)
        let people = created.beneficiaries.map(\.id)
        // As their KYC would have it: redemption is for verified people only.
        try await harness.coreDatabase.sql.update("beneficiaries").set("verification_status", to: "verified").run()
        _ = try await harness.projects.enrolBeneficiaries(
            .with {
                $0.projectID = project
                $0.beneficiaryIds = people
            }, metadata: admin)
        for person in people {
            // Paid as a disbursement line would be; disbursements have their own tests.
            _ = try await harness.ledger.recordTransfer(
                .with {
                    $0.idempotencyKey = "test:wallet:\(person)"
                    $0.debit = .with {
                        $0.kind = .projectFund
                        $0.projectID = project
                    }
                    $0.credit = .with {
                        $0.kind = .beneficiaryWallet
                        $0.projectID = project
                        $0.ownerID = person
                    }
                    $0.amount = 5_000
                    $0.asset = "NPR"
                    $0.kind = .disburse
                    $0.reference = "test"
                }, metadata: admin)
        }
        let vendor = try await harness.vendors.registerVendor(
            Self.vendor("Ram Kirana Pasal", "ram@example.org", "a long vendor passphrase"), metadata: admin)
        _ = try await harness.vendors.assignVendor(
            .with {
                $0.projectID = project
                $0.vendorID = vendor.id
            }, metadata: admin)
        let login = try await harness.login("ram@example.org", "a long vendor passphrase")
        return Shop(
            project: project, admin: admin, phones: phones, noPhone: people[2], vendor: vendor.id,
            vendorLogin: ServiceHarness.bearer(login.accessToken))
    }

    /// A vendor with its own login, paid by mobile money.
    static func vendor(_ name: String, _ email: String, _ password: String) -> Rahat_Core_V1_RegisterVendorRequest {
        .with {
            $0.name = name
            $0.email = email
            $0.password = password
            $0.payoutAccount = .with {
                $0.type = .mobileMoney
                $0.provider = "eSewa"
                $0.mobileNumber = "+9779811112222"
            }
        }
    }

    /// The id of the shop's first holder, found by phone in its project.
    static func holderID(_ harness: ServiceHarness, _ shop: Shop) async throws -> String {
        try #require(
            try await harness.beneficiaries.listBeneficiaries(
                .with {
                    $0.phone = shop.phones[0]
                    $0.projectID = shop.project
                }, metadata: shop.admin
            ).beneficiaries.first?.id)
    }

    static func request(
        _ shop: Shop, phone: String? = nil, beneficiary: String? = nil, amount: Int64
    ) -> Rahat_C2c_V1_RequestRedemptionRequest {
        .with {
            $0.vendorID = shop.vendor
            if let phone { $0.phone = phone }
            if let beneficiary { $0.beneficiaryID = beneficiary }
            $0.amount = amount
        }
    }

    static func balance(
        _ harness: ServiceHarness, _ shop: Shop, _ kind: Rahat_Ledger_V1_AccountKind, owner: String
    ) async throws -> Int64 {
        try #require(try await harness.balance(kind, project: shop.project, owner: owner, as: shop.admin))
    }

    @Test(
        "a vendor requests by phone (50 times at once: one code by SMS), and the same confirmation sent 50 times moves the amount once",
        arguments: DatabaseEngine.available)
    func requestAndConfirm(engine: DatabaseEngine) async throws {
        try await SmsCapture.with { sms in
            try await ServiceHarness.with(engine, sms: sms.sender) { harness in
                // given
                let shop = try await Self.shop(harness)

                // when the vendor asks for 1,500 from the holder of the first phone, written nationally
                // (sent 50 times at once, as a vendor app retrying might)
                let requests = try await withThrowingTaskGroup(of: Rahat_C2c_V1_Redemption.self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            try await harness.redemptions.requestRedemption(
                                .with {
                                    $0.vendorID = shop.vendor
                                    $0.phone = "981-2000001"
                                    $0.defaultCountry = "NP"
                                    $0.amount = 1_500
                                }, metadata: shop.vendorLogin)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let requested = try #require(requests.first { !$0.replayed })
                let code = try #require(sms.lastCode(to: shop.phones[0]))
                let wrong = code == "000000" ? "111111" : "000000"
                let mistyped = await serviceFailure {
                    try await harness.redemptions.confirmRedemption(
                        .with {
                            $0.id = requested.id
                            $0.code = wrong
                        }, metadata: shop.vendorLogin)
                }
                let answers = try await withThrowingTaskGroup(of: Rahat_C2c_V1_Redemption.self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            try await harness.redemptions.confirmRedemption(
                                .with {
                                    $0.id = requested.id
                                    $0.code = code
                                }, metadata: shop.vendorLogin)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let lateWrong = await serviceFailure {
                    try await harness.redemptions.confirmRedemption(
                        .with {
                            $0.id = requested.id
                            $0.code = wrong
                        }, metadata: shop.vendorLogin)
                }
                let listed = try await harness.redemptions.listRedemptions(.init(), metadata: shop.vendorLogin)

                // then one request, one code to the phone, only a hint of which is shown
                #expect(requests.count == 50)
                #expect(requests.filter(\.replayed).count == 49)
                #expect(requests.allSatisfy { $0.id == requested.id })
                #expect(sms.messages.count == 1)
                #expect(requested.status == .requested)
                #expect(requested.phoneHint == "+977*******001")
                #expect(requested.attemptsRemaining == 3)
                #expect(requested.projectID == shop.project)
                #expect(requested.asset == "NPR")
                let message = try #require(sms.messages.last)
                #expect(message.to == shop.phones[0])
                #expect(message.body.contains("NPR 15.00"))
                #expect(message.body.contains("Ram Kirana Pasal"))
                #expect(mistyped?.reason == "redemption.wrong_code")
                #expect(mistyped?.violations.map(\.field) == ["code"])
                // one effect: 50 answers, one transfer, the wallet down by 1,500 once
                let transfer = try #require(answers.first?.transferID)
                #expect(answers.count == 50)
                #expect(answers.allSatisfy { $0.status == .confirmed && $0.transferID == transfer })
                #expect(answers.first?.attemptsRemaining == 2)
                let beneficiary = requested.beneficiaryID
                #expect(try await Self.balance(harness, shop, .beneficiaryWallet, owner: beneficiary) == 3_500)
                #expect(try await Self.balance(harness, shop, .vendor, owner: shop.vendor) == 1_500)
                #expect(lateWrong?.reason == "redemption.invalid_state")
                #expect(listed.redemptions.map(\.id) == [requested.id])
                let moved = try await harness.ledger.getTransfer(.with { $0.id = transfer }, metadata: shop.admin)
                #expect(moved.kind == .redeem)
                #expect(moved.idempotencyKey == "redemption:\(requested.id)")
                #expect(try await harness.ledger.verifyChain(.init(), metadata: shop.admin).ok)
                // the code is kept only as a salted digest
                let id = try #require(UUID(uuidString: requested.id))
                let found = try await harness.c2cDatabase.sql.select().columns("code_hash", "code_salt")
                    .from("redemptions").where("id", .equal, SQLBind(id)).first()
                let row = try #require(found)
                let stored = try row.decode(column: "code_hash", as: String.self)
                #expect(stored.count == 64)
                #expect(!stored.contains(code))
            }
        }
    }

    @Test("a code sent before the vendor was deactivated, or before the project closed, moves nothing")
    func confirmationRechecksVendorAndProject() async throws {
        try await SmsCapture.with { sms in
            try await ServiceHarness.with(.sqlite, sms: sms.sender) { harness in
                // given two codes sent to two holders
                let shop = try await Self.shop(harness)
                var sent: [(id: String, code: String)] = []
                for phone in shop.phones {
                    let requested = try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: phone, amount: 1_000), metadata: shop.vendorLogin)
                    sent.append((requested.id, try #require(sms.lastCode(to: phone))))
                }
                let codes = sent
                let confirm = { @Sendable (index: Int) in
                    await serviceFailure {
                        try await harness.redemptions.confirmRedemption(
                            .with {
                                $0.id = codes[index].id
                                $0.code = codes[index].code
                            }, metadata: shop.vendorLogin)
                    }
                }

                // when the project is closed, then the vendor deactivated
                _ = try await harness.projects.closeProject(.with { $0.id = shop.project }, metadata: shop.admin)
                let closed = await confirm(0)
                _ = try await harness.vendors.deactivateVendor(.with { $0.id = shop.vendor }, metadata: shop.admin)
                let inactive = await confirm(1)

                // then neither code moved value
                #expect(closed?.reason == "project.closed")
                #expect(inactive?.reason == "vendor.inactive")
                let vendorBalance = try await harness.balance(
                    .vendor, project: shop.project, owner: shop.vendor, as: shop.admin)
                #expect((vendorBalance ?? 0) == 0)
            }
        }
    }

    @Test(
        "a vendor learns nothing of people outside its projects, redeems for verified people only, and cannot guess codes across wallets"
    )
    func probingAndGuessing() async throws {
        let clock = Mutex(Date())
        try await SmsCapture.with { sms in
            try await ServiceHarness.with(.sqlite, sms: sms.sender, now: { clock.withLock { $0 } }) { harness in
                // given the shop's project, and a person registered with a phone in another project
                let shop = try await Self.shop(harness)
                let elsewhere = try await ProjectFundsTests.newProject(on: harness, as: shop.admin)
                let outsider = try await harness.beneficiaries.createBeneficiaries(
                    .with {
                        $0.beneficiaries = [
                            .with {
                                $0.name = "Elsewhere"
                                $0.phone = "+9779812000009"
                            }
                        ]
                    }, metadata: shop.admin)
                _ = try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = elsewhere
                        $0.beneficiaryIds = outsider.beneficiaries.map(\.id)
                    }, metadata: shop.admin)

                // when the vendor asks by a registered outsider's phone and by a number nobody has
                let registered = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: "+9779812000009", amount: 100), metadata: shop.vendorLogin)
                }
                let unregistered = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: "+9779812000008", amount: 100), metadata: shop.vendorLogin)
                }
                // then the two are answered alike
                #expect(registered?.reason == "beneficiary.not_found")
                #expect(registered?.reason == unregistered?.reason && registered?.message == unregistered?.message)

                // when a holder's verification reopens, nothing is redeemed for them
                let holderID = try await Self.holderID(harness, shop)
                try await harness.coreDatabase.sql.update("beneficiaries").set("verification_status", to: "pending")
                    .where("id", .equal, SQLBind(try #require(UUID(uuidString: holderID)))).run()
                let reopened = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: shop.phones[0], amount: 100), metadata: shop.vendorLogin)
                }
                #expect(reopened?.reason == "beneficiary.not_verified")

                // when the vendor guesses: three wrong codes on each of its requests, ten in all
                // (the budget docs/security.md gives, per vendor and hour)
                let budget = 10
                var wrongCodes = 0
                var lastID = ""
                while wrongCodes < budget {
                    let requested = try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: shop.phones[1], amount: Int64(100 + wrongCodes)),
                        metadata: shop.vendorLogin)
                    lastID = requested.id
                    let code = try #require(sms.lastCode(to: shop.phones[1]))
                    for _ in 0..<3 where wrongCodes < budget {
                        _ = await serviceFailure {
                            try await harness.redemptions.confirmRedemption(
                                .with {
                                    $0.id = requested.id
                                    $0.code = code == "000000" ? "111111" : "000000"
                                }, metadata: shop.vendorLogin)
                        }
                        wrongCodes += 1
                    }
                }
                let fresh = try await harness.redemptions.requestRedemption(
                    Self.request(shop, phone: shop.phones[1], amount: 42), metadata: shop.vendorLogin)
                let rightCode = try #require(sms.lastCode(to: shop.phones[1]))
                let paused = await serviceFailure {
                    try await harness.redemptions.confirmRedemption(
                        .with {
                            $0.id = fresh.id
                            $0.code = rightCode
                        }, metadata: shop.vendorLogin)
                }

                // then even the right code waits, and nothing moved
                #expect(paused?.reason == "redemption.vendor_throttled", "\(String(describing: paused))")
                #expect((paused?.retryAfterSeconds ?? 0) > 0)
                #expect(!lastID.isEmpty)
                let vendorBalance = try await harness.balance(
                    .vendor, project: shop.project, owner: shop.vendor, as: shop.admin)
                #expect((vendorBalance ?? 0) == 0)
            }
        }
    }

    @Test(
        "a changed phone tells the old number and holds redemption for the cooling-off period",
        arguments: DatabaseEngine.available)
    func phoneChangeCoolingOff(engine: DatabaseEngine) async throws {
        let clock = Mutex(Date())
        try await SmsCapture.with { sms in
            try await ServiceHarness.with(engine, sms: sms.sender, now: { clock.withLock { $0 } }) { harness in
                // given a verified holder in the vendor's project
                let shop = try await Self.shop(harness)
                let holderID = try await Self.holderID(harness, shop)
                let newPhone = "+9779812000031"

                // when someone changes the holder's phone, and their checks pass again at once
                let changed = try await harness.beneficiaries.updateBeneficiary(
                    .with {
                        $0.id = holderID
                        $0.changes = .with { $0.phone = newPhone }
                        $0.fields = ["phone"]
                    }, metadata: shop.admin)
                let changedAt = clock.withLock { $0 }
                try await harness.coreDatabase.sql.update("beneficiaries").set("verification_status", to: "verified")
                    .where("id", .equal, SQLBind(try #require(UUID(uuidString: holderID)))).run()
                let held = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: newPhone, amount: 100), metadata: shop.vendorLogin)
                }
                // and again a minute before the hold ends
                clock.withLock { $0 = changedAt.addingTimeInterval(72 * 3_600 - 60) }
                let stillHeld = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: newPhone, amount: 100), metadata: shop.vendorLogin)
                }
                clock.withLock { $0 = changedAt.addingTimeInterval(72 * 3_600 + 1) }
                let after = try await harness.redemptions.requestRedemption(
                    Self.request(shop, phone: newPhone, amount: 100), metadata: shop.vendorLogin)

                // then the change is dated, the old number was told and got no code, and the new
                // one gets a code only once the hold is over
                #expect(changed.hasPhoneChangedAt)
                #expect(abs(changed.phoneChangedAt.date.timeIntervalSince(changedAt)) < 1)
                let toOld = sms.messages.filter { $0.to == shop.phones[0] }
                #expect(toOld.count == 1)
                #expect(toOld.first?.body.contains("phone number of your aid registration was changed") == true)
                #expect(held?.reason == "beneficiary.phone_recently_changed", "\(String(describing: held))")
                #expect(stillHeld?.reason == "beneficiary.phone_recently_changed")
                #expect(after.beneficiaryID == holderID)
                #expect(sms.lastCode(to: newPhone) != nil)
                #expect(sms.messages.filter { $0.to == newPhone }.count == 1)

                // and a change of anything else starts no hold and tells nobody
                let before = sms.messages.count
                let other = try await harness.beneficiaries.updateBeneficiary(
                    .with {
                        $0.id = holderID
                        $0.changes = .with { $0.location = "Ward 4" }
                        $0.fields = ["location"]
                    }, metadata: shop.admin)
                #expect(abs(other.phoneChangedAt.date.timeIntervalSince(changedAt)) < 1)
                #expect(sms.messages.count == before)
            }
        }
    }

    @Test("who may redeem and what: other vendors, balances, phones, wrong codes, expiry and the code throttle")
    func refusals() async throws {
        let clock = Mutex(Date())
        try await SmsCapture.with { sms in
            try await ServiceHarness.with(.sqlite, sms: sms.sender, now: { clock.withLock { $0 } }) { harness in
                let shop = try await Self.shop(harness)
                let other = try await harness.vendors.registerVendor(
                    Self.vendor("Sita Store", "sita@example.org", "another vendor passphrase"), metadata: shop.admin)
                let otherLogin = ServiceHarness.bearer(
                    try await harness.login("sita@example.org", "another vendor passphrase").accessToken)

                // bad input names its fields
                let invalid = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        .with {
                            $0.vendorID = "shop"
                            $0.amount = 0
                        }, metadata: shop.vendorLogin)
                }
                #expect(invalid?.kind == .invalidArgument)
                #expect(Set(invalid?.violations.map(\.field) ?? []) == ["vendorId", "beneficiaryId", "amount"])
                // a vendor's login redeems for itself only
                let forAnother = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: shop.phones[0], amount: 100), metadata: otherLogin)
                }
                #expect(forAnother?.kind == .permissionDenied)
                // a vendor not assigned to any project redeems nowhere
                let unassigned = await serviceFailure {
                    var request = Self.request(shop, phone: shop.phones[0], amount: 100)
                    request.vendorID = other.id
                    return try await harness.redemptions.requestRedemption(request, metadata: otherLogin)
                }
                #expect(unassigned?.reason == "vendor.not_assigned")
                // more than the wallet holds, nobody with that phone, nobody to text
                let tooMuch = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: shop.phones[0], amount: 5_001), metadata: shop.vendorLogin)
                }
                #expect(tooMuch?.reason == "redemption.insufficient_balance")
                let nobody = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: "+9779819999999", amount: 100), metadata: shop.vendorLogin)
                }
                #expect(nobody?.reason == "beneficiary.not_found")
                let noPhone = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, beneficiary: shop.noPhone, amount: 100), metadata: shop.vendorLogin)
                }
                #expect(noPhone?.reason == "beneficiary.no_phone")
                #expect(sms.messages.isEmpty)

                // three wrong codes fail it; the right one then moves nothing
                let guessed = try await harness.redemptions.requestRedemption(
                    Self.request(shop, phone: shop.phones[1], amount: 700), metadata: shop.vendorLogin)
                let code = try #require(sms.lastCode(to: shop.phones[1]))
                let wrong = code == "000000" ? "111111" : "000000"
                let stranger = await serviceFailure {
                    try await harness.redemptions.confirmRedemption(
                        .with {
                            $0.id = guessed.id
                            $0.code = code
                        }, metadata: otherLogin)
                }
                #expect(stranger?.reason == "redemption.not_found")
                var reasons: [String?] = []
                for _ in 0..<3 {
                    reasons.append(
                        await serviceFailure {
                            try await harness.redemptions.confirmRedemption(
                                .with {
                                    $0.id = guessed.id
                                    $0.code = wrong
                                }, metadata: shop.vendorLogin)
                        }?.message)
                }
                let afterFailure = await serviceFailure {
                    try await harness.redemptions.confirmRedemption(
                        .with {
                            $0.id = guessed.id
                            $0.code = code
                        }, metadata: shop.vendorLogin)
                }
                let failed = try await harness.redemptions.getRedemption(
                    .with { $0.id = guessed.id }, metadata: shop.vendorLogin)
                #expect(reasons.first??.contains("2 attempts remain") == true)
                #expect(reasons.last??.contains("has failed") == true)
                #expect(afterFailure?.reason == "redemption.invalid_state")
                #expect(failed.status == .failed)
                #expect(failed.attemptsRemaining == 0)
                #expect(failed.failureReason == "too many wrong codes")

                // a code unused for five minutes has expired
                let late = try await harness.redemptions.requestRedemption(
                    Self.request(shop, phone: shop.phones[1], amount: 700), metadata: shop.vendorLogin)
                let lateCode = try #require(sms.lastCode(to: shop.phones[1]))
                clock.withLock { $0 += 301 }
                let expired = await serviceFailure {
                    try await harness.redemptions.confirmRedemption(
                        .with {
                            $0.id = late.id
                            $0.code = lateCode
                        }, metadata: shop.vendorLogin)
                }
                #expect(expired?.reason == "redemption.expired")
                let expiredList = try await harness.redemptions.listRedemptions(
                    .with { $0.status = .expired }, metadata: shop.admin)
                #expect(expiredList.redemptions.map(\.id) == [late.id])
                // others' redemptions are not a vendor's to list
                let othersList = try await harness.redemptions.listRedemptions(.init(), metadata: otherLogin)
                #expect(othersList.redemptions.isEmpty)
                #expect(
                    try await Self.balance(harness, shop, .beneficiaryWallet, owner: failed.beneficiaryID) == 5_000)

                // another amount replaces a live code; five codes to one phone in 15 minutes, then a wait
                var replaced: [String] = []
                for amount in [100, 101, 102] as [Int64] {
                    replaced.append(
                        try await harness.redemptions.requestRedemption(
                            Self.request(shop, phone: shop.phones[1], amount: amount), metadata: shop.vendorLogin
                        ).id)
                }
                let superseded = try await harness.redemptions.getRedemption(
                    .with { $0.id = replaced[0] }, metadata: shop.vendorLogin)
                #expect(superseded.status == .expired)
                #expect(superseded.failureReason == "superseded by a later request")
                #expect(Set(replaced).count == 3)
                let throttled = await serviceFailure {
                    try await harness.redemptions.requestRedemption(
                        Self.request(shop, phone: shop.phones[1], amount: 103), metadata: shop.vendorLogin)
                }
                #expect(throttled?.reason == "redemption.throttled")
                #expect((throttled?.retryAfterSeconds ?? 0) > 0)
                #expect(sms.messages.filter { $0.to == shop.phones[1] }.count == 5)
                clock.withLock { $0 += 15 * 60 }
                let later = try await harness.redemptions.requestRedemption(
                    Self.request(shop, phone: shop.phones[1], amount: 102), metadata: shop.vendorLogin)
                #expect(!later.replayed)
                #expect(sms.messages.filter { $0.to == shop.phones[1] }.count == 6)

                // a confirmation whose ledger move committed but whose own record was lost is found
                // confirmed, not expired, when its code runs out
                let laterCode = try #require(sms.lastCode(to: shop.phones[1]))
                let confirmed = try await harness.redemptions.confirmRedemption(
                    .with {
                        $0.id = later.id
                        $0.code = laterCode
                    }, metadata: shop.vendorLogin)
                let laterID = try #require(UUID(uuidString: later.id))
                try await harness.c2cDatabase.sql.update("redemptions").set("status", to: SQLBind("requested"))
                    .set("transfer_id", to: SQLLiteral.null).set("confirmed_at", to: SQLLiteral.null)
                    .where("id", .equal, SQLBind(laterID)).run()
                clock.withLock { $0 += 301 }
                let next = try await harness.redemptions.requestRedemption(
                    Self.request(shop, phone: shop.phones[1], amount: 50), metadata: shop.vendorLogin)
                let recovered = try await harness.redemptions.getRedemption(
                    .with { $0.id = later.id }, metadata: shop.vendorLogin)
                #expect(next.id != later.id)
                #expect(recovered.status == .confirmed)
                #expect(recovered.transferID == confirmed.transferID)
                #expect(
                    try await Self.balance(harness, shop, .beneficiaryWallet, owner: later.beneficiaryID) == 4_898)
            }
        }
    }
}
