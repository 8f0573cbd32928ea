import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// A field supervisor's import: the upload, its progress and counts, the rejected rows.
    @Suite("Imports")
    struct Imports {
        @Test(
            "a CSV is imported into a project and its rejected rows download as CSV",
            arguments: DatabaseEngine.available)
        func importAndRejects(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                let admin = try await client.login()
                let projectID = try await client.createProject("Winter relief", bearer: admin.access)
                let browser = Browser(client)
                try await browser.signIn()
                _ = try await browser.get("/console/imports")
                let csv = """
                    name,phone,gender,birthDate
                    Sita Rai,+9779812345601,female,1980-02-03
                    ,+9779812345602,female,1981-02-03
                    Maya Tamang,+9779812345603,female,not a date
                    Hari Magar,+9779812345604,male,1979-05-06

                    """
                // when
                let noFile = try await browser.postMultipart("/console/imports", [("projectId", projectID)])
                let uploaded = try await browser.postMultipart(
                    "/console/imports", [("projectId", projectID), ("onDuplicate", "reject"), ("country", "np")],
                    files: [("file", "ward-4.csv", csv)])
                let path = try #require(uploaded.location, "\(uploaded)")
                var page = try await browser.get(path)
                for _ in 0..<300 where !page.mainText.contains("Completed") {
                    try await Task.sleep(for: .milliseconds(100))
                    page = try await browser.get(path)
                }
                let rejects = try await browser.get(path + "/rejects")
                let stream = try await browser.get(path + "/progress")
                let list = try await browser.get("/console/imports")
                let failedJobs = try await browser.get("/console/jobs")
                let completedJobs = try await browser.get("/console/jobs?status=completed")
                // then
                #expect(noFile.status == .badRequest)
                #expect(noFile.mainText.contains("Choose a CSV file."))
                #expect(uploaded.status == .seeOther)
                #expect(page.mainText.contains("Completed"), "\(page.mainText)")
                #expect(page.mainText.contains("Winter relief"))
                #expect(page.html.contains("<dd data-progress-created>2</dd>"), "\(page.html)")
                #expect(page.html.contains("<dd data-progress-rejected>2</dd>"))
                #expect(rejects.status == .ok)
                #expect(rejects.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(rejects.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
                #expect(rejects.html.hasPrefix("line,column,reason"), "\(rejects.html)")
                #expect(rejects.html.contains("3,name,"))
                #expect(rejects.html.contains("4,birthDate,"))
                #expect(stream.html.contains("\"done\":true"))
                #expect(list.mainText.contains("ward-4.csv"))
                #expect(failedJobs.mainText.contains("No jobs to show."), "\(failedJobs.mainText)")
                #expect(completedJobs.mainText.contains("imports"), "\(completedJobs.mainText)")
                #expect(completedJobs.mainText.contains("Completed"))
                #expect(!completedJobs.html.contains("/retry"), "only a failed job may be retried")
            }
        }
    }
}
