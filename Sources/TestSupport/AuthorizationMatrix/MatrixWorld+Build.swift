import Foundation
import HTTPTypes
import HummingbirdTesting
import Synchronization
import TestInfrastructure

extension MatrixWorld {
    /// The user every sign-in and refresh cell signs in as.
    static let loginEmail = "someone@example.org"
    static let loginPassword = "someone's long passphrase"
    static let vendorPassword = "the shop's long passphrase"
    static var schedule: [String: Any] { ["cadence": "daily", "at": "17:00", "timeZone": "Asia/Kathmandu"] }

    /// Builds both projects through their whole life, and the callers, as the admin would.
    static func build(client: any TestClientProtocol, serviceToken: String, smsFile: String) async throws -> MatrixWorld
    {
        let admin = try await client.login().access
        let projectA = try await client.createProject("A", bearer: admin)
        let projectB = try await client.createProject("B", bearer: admin)
        let managerA = try await client.createUser(
            "manager.a@example.org", role: "manager", projectID: projectA, bearer: admin)
        let manager = try await client.createUser("manager@example.org", role: "manager", bearer: admin)
        let agentA = try await client.createUser(
            "agent.a@example.org", role: "field_agent", projectID: projectA, bearer: admin)
        let auditorA = try await client.createUser(
            "auditor.a@example.org", role: "auditor", projectID: projectA, bearer: admin)
        let someone = try await client.send(
            .post, "/v1/users",
            json: ["name": "Some user", "email": loginEmail, "password": loginPassword], bearer: admin)
        guard someone.status == .created else { throw MatrixSetupFailed(step: "a plain user", answer: someone) }
        let key = try await client.send(
            .post, "/v1/api-keys",
            json: [
                "name": "partner", "projectId": projectA,
                "permissions": ["project:read", "beneficiary:read", "disbursement:read", "disbursement:create"],
            ], bearer: admin)
        let adminKey = try await client.send(
            .post, "/v1/api-keys", json: ["name": "admin's", "permissions": ["project:read"]], bearer: admin)
        var credentials: [MatrixCaller: MatrixCredential] = [
            .anonymous: .none, .admin: .bearer(admin), .managerA: .bearer(managerA.access),
            .manager: .bearer(manager.access), .agentA: .bearer(agentA.access), .auditorA: .bearer(auditorA.access),
            .apiKeyA: .apiKey(try key.json.string("key")),
            .service: .bearer(serviceToken),
        ]
        var partial = MatrixWorld(
            client: client, admin: admin, manager: manager.access, managerID: manager.id, managerAID: managerA.id,
            own: MatrixProject(id: projectA), other: MatrixProject(id: projectB), credentials: credentials,
            smsFile: smsFile, someUser: try someone.json.string("id"), adminKey: try adminKey.json.string("id"))
        for (side, caller) in [(MatrixSide.own, MatrixCaller.vendorA), (.other, .vendorB)] {
            let (project, vendor) = try await partial.populate(side)
            credentials[caller] = .bearer(vendor)
            partial = partial.with(side, project, credentials: credentials)
        }
        for (side, caller) in [(MatrixSide.own, MatrixCaller.vendorA), (.other, .vendorB)] {
            partial = partial.with(side, try await partial.runMoney(side, vendor: caller), credentials: credentials)
        }
        return partial
    }

    private func with(
        _ side: MatrixSide, _ project: MatrixProject, credentials: [MatrixCaller: MatrixCredential]
    ) -> MatrixWorld {
        MatrixWorld(
            client: client, admin: admin, manager: manager, managerID: managerID, managerAID: managerAID,
            own: side == .own ? project : own, other: side == .other ? project : other, credentials: credentials,
            smsFile: smsFile, someUser: someUser, adminKey: adminKey)
    }

    /// The side's person (registered so that the platform's own checks verify them), funding,
    /// approver, schedule, group, import, and vendor; the vendor's access token.
    private func populate(_ side: MatrixSide) async throws -> (MatrixProject, vendor: String) {
        var project = self[side]
        let phone = side == .own ? "+9779812300010" : "+9779812300020"
        project.phone = phone
        project.beneficiary = try await adminSend(
            .post, "/v1/beneficiaries",
            json: [
                "name": "Person of \(side.rawValue)", "birthDate": "1980-02-03", "gender": "female", "phone": phone,
            ],
            expect: .created
        ).string("id")
        // A second person, for the cells that ask for codes: a person is sent five an hour at most.
        project.shopperPhone = side == .own ? "+9779812300011" : "+9779812300021"
        project.shopper = try await adminSend(
            .post, "/v1/beneficiaries",
            json: [
                "name": "Shopper of \(side.rawValue)", "birthDate": "1981-02-03", "gender": "male",
                "phone": project.shopperPhone,
            ],
            expect: .created
        ).string("id")
        _ = try await adminSend(
            .post, "/v1/projects/\(project.id)/beneficiaries",
            json: ["beneficiaryIds": [project.beneficiary, project.shopper]], expect: .ok)
        _ = try await adminSend(
            .post, "/v1/projects/\(project.id)/funding", json: ["amount": 100_000, "reference": "GRANT-1"],
            expect: .created)
        _ = try await adminSend(
            .put, "/v1/projects/\(project.id)/approvers", json: ["userIds": approvers(side), "required": 1],
            expect: .ok)
        _ = try await adminSend(
            .put, "/v1/projects/\(project.id)/settlement-schedule", json: Self.schedule, expect: .ok)
        project.group = try await adminSend(
            .post, "/v1/groups", json: ["name": "Group of \(side.rawValue)"], expect: .created
        )
        .string("id")
        _ = try await adminSend(
            .post, "/v1/groups/\(project.group)/members", json: ["beneficiaryIds": [project.beneficiary]],
            expect: .ok)
        let imported = try await adminSend(
            .post, "/v1/imports?projectId=\(project.id)", raw: "name\nImported of \(side.rawValue)\n",
            contentType: "text/csv", expect: .accepted)
        project.importID = try imported.string("id")
        project.job = try imported.string("jobId")
        let email = "shop.\(side.rawValue.lowercased())@example.org"
        project.vendor = try await adminSend(
            .post, "/v1/vendors",
            json: [
                "name": "Shop of \(side.rawValue)", "email": email, "password": Self.vendorPassword,
                "payoutAccount": Self.payoutAccount("0100-1234-000\(side == .own ? 1 : 2)"),
            ], expect: .created
        ).string("id")
        _ = try await adminSend(
            .post, "/v1/projects/\(project.id)/vendors", json: ["vendorId": project.vendor], expect: .ok)
        let vendor = try await client.login(email, Self.vendorPassword).access
        return (project, vendor)
    }

    /// Pays the side's person once verified, lets its vendor redeem part, and settles the vendor.
    private func runMoney(_ side: MatrixSide, vendor caller: MatrixCaller) async throws -> MatrixProject {
        var project = self[side]
        let verified = try await client.poll("/v1/verifications?beneficiaryId=\(project.beneficiary)", bearer: admin) {
            (($0["items"] as? [[String: Any]])?.first?["status"] as? String) == "verified"
        }
        _ = try await client.poll("/v1/verifications?beneficiaryId=\(project.shopper)", bearer: admin) {
            (($0["items"] as? [[String: Any]])?.first?["status"] as? String) == "verified"
        }
        guard let verification = (verified["items"] as? [[String: Any]])?.first?["id"] as? String else {
            throw MatrixSetupFailed(step: "verifying \(project.beneficiary): \(verified)", answer: nil)
        }
        project.verification = verification
        let disbursement = try await adminSend(
            .post, "/v1/disbursements",
            json: ["projectId": project.id, "name": "November", "amountPerBeneficiary": 10_000, "reference": "NOV-1"],
            expect: .created
        ).string("id")
        project.disbursement = disbursement
        _ = try await adminSend(.post, "/v1/disbursements/\(disbursement)/submit", expect: .ok)
        _ = try await adminSend(
            .post, "/v1/disbursements/\(disbursement)/approve", json: ["note": "ok"], as: manager, expect: .ok)
        let paid = try await client.poll("/v1/disbursements/\(disbursement)", bearer: admin) {
            $0["status"] as? String == "completed"
        }
        guard paid["status"] as? String == "completed" else {
            throw MatrixSetupFailed(step: "paying \(disbursement): \(paid)", answer: nil)
        }
        let shop = try credentials[caller].unwrapBearer()
        let requested = try await adminSend(
            .post, "/v1/redemptions", json: ["vendorId": project.vendor, "phone": project.phone, "amount": 1_000],
            as: shop, expect: .created)
        project.redemption = try requested.string("id")
        _ = try await adminSend(
            .post, "/v1/redemptions/\(project.redemption)/confirm", json: ["code": try lastCode(to: project.phone)],
            as: shop, expect: .ok)
        let run = try await adminSend(.post, "/v1/settlements", json: ["projectId": project.id], expect: .accepted)
        guard let settlement = (run["settlements"] as? [[String: Any]])?.first?["id"] as? String else {
            throw MatrixSetupFailed(step: "settling \(project.vendor): \(run)", answer: nil)
        }
        project.settlement = settlement
        let processing = try await client.poll("/v1/settlements/\(settlement)", bearer: admin) {
            $0["status"] as? String == "processing"
        }
        guard processing["status"] as? String == "processing" else {
            throw MatrixSetupFailed(step: "settling \(settlement): \(processing)", answer: nil)
        }
        _ = try await client.poll("/v1/imports/\(project.importID)", bearer: admin) {
            $0["status"] as? String == "completed"
        }
        let fund = try await adminSend(
            .get, "/v1/ledger/accounts?projectId=\(project.id)&kind=project_fund", expect: .ok)
        project.fundAccount = try fund.string("id")
        let transfers = try await adminSend(.get, "/v1/ledger/transfers?projectId=\(project.id)", expect: .ok)
        guard let transfer = (transfers["items"] as? [[String: Any]])?.first?["id"] as? String else {
            throw MatrixSetupFailed(step: "reading \(project.id)'s transfers: \(transfers)", answer: nil)
        }
        project.transfer = transfer
        return project
    }

    /// Who approves the side's disbursements: the manager of every project, and A's own.
    func approvers(_ side: MatrixSide) -> [String] {
        side == .own ? [managerID, managerAID] : [managerID]
    }

    /// A number no other call of the run has had.
    static func next() -> Int {
        counter.add(1, ordering: .relaxed).newValue
    }

    private static let counter = Atomic<Int>(0)

    // MARK: Fresh credentials

    /// A refresh token of a new sign-in by the plain user.
    func freshRefreshToken() async throws -> String {
        try await client.login(Self.loginEmail, Self.loginPassword).refresh
    }

    /// A refresh token of a new sign-in by `caller`, when it is a person; else the plain user's.
    func freshRefreshToken(of caller: MatrixCaller) async throws -> String {
        let password = type(of: client).scenarioPassword
        return switch caller {
        case .admin: try await client.login().refresh
        case .managerA: try await client.login("manager.a@example.org", password).refresh
        case .manager: try await client.login("manager@example.org", password).refresh
        case .agentA: try await client.login("agent.a@example.org", password).refresh
        case .auditorA: try await client.login("auditor.a@example.org", password).refresh
        case .vendorA: try await client.login("shop.a@example.org", Self.vendorPassword).refresh
        case .vendorB: try await client.login("shop.b@example.org", Self.vendorPassword).refresh
        case .anonymous, .apiKeyA, .service: try await freshRefreshToken()
        }
    }

    /// A new API key of the admin's.
    func freshAdminKey() async throws -> String {
        try await adminSend(
            .post, "/v1/api-keys", json: ["name": "spare", "permissions": ["project:read"]], expect: .created
        )
        .string("id")
    }

    /// Puts the side's schedule back, for a cell that deletes it.
    func restoreSchedule(in side: MatrixSide) async throws {
        _ = try await adminSend(
            .put, "/v1/projects/\(self[side].id)/settlement-schedule", json: Self.schedule, expect: .ok)
    }
}

extension MatrixProject {
    /// A project known by its id only, before it is populated.
    init(id: String) {
        self.init(
            id: id, beneficiary: "", phone: "", group: "", vendor: "", disbursement: "", redemption: "",
            settlement: "", importID: "", verification: "", fundAccount: "", transfer: "", job: "", shopper: "",
            shopperPhone: "")
    }
}
