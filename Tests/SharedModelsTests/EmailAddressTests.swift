import SharedModels
import Testing

@Suite("Email addresses")
struct EmailAddressTests {
    @Test(
        "addresses mail systems deliver to are accepted",
        arguments: [
            "admin@example.org", "sita.tharu+relief@mail.example.com.np", "o'brien@ex-ample.org", "a@b.co",
            "राम@उदाहरण.भारत", "x_y/z=1!#@sub.example.org",
        ])
    func accepted(email: String) {
        #expect(EmailAddress.isPlausible(email))
    }

    @Test(
        "what no mail system delivers to is refused",
        arguments: [
            // A fuzzer's address the platform once stored, though its own API said it was no email.
            "/@d7tp^2.+h1.0.uei4/=&t.!80.kn3d",
            "", "@example.org", "admin@", "admin@localhost", "admin@@example.org", "ad min@example.org",
            ".admin@example.org", "admin.@example.org", "ad..min@example.org", "admin@example..org",
            "admin@-example.org", "admin@example-.org", "admin@exa_mple.org", "admin@[127.0.0.1]",
            "a\u{0}b@example.org", "\"quoted\"@example.org", String(repeating: "a", count: 65) + "@example.org",
        ])
    func refused(email: String) {
        #expect(!EmailAddress.isPlausible(email))
    }
}
