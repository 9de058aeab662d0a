import PosternProtocol
import XCTest

/// The one login-name check: length, NUL and control characters; the injection names of the issue.
final class LoginNameTests: XCTestCase {
    func testOrdinaryNamesPass() {
        for name in ["alice", "alice@example.net", "a,10.0.0.7:25,b@example.net", "Jörg Müller", "x"] {
            XCTAssertNil(LoginName.validate(name), name)
        }
    }

    func testEmptyAndOverlongNamesAreRefused() {
        XCTAssertEqual(LoginName.validate(""), .empty)
        XCTAssertNil(LoginName.validate(String(repeating: "a", count: 255)))
        XCTAssertEqual(LoginName.validate(String(repeating: "a", count: 256)), .tooLong(bytes: 256))
        XCTAssertEqual(LoginName.validate(String(repeating: "ö", count: 128)), .tooLong(bytes: 256))
    }

    func testNULAndControlCharactersAreRefused() {
        XCTAssertEqual(LoginName.validate("alice\u{0}admin"), .nul)
        XCTAssertEqual(LoginName.validate("alice\r\nA2 LOGIN"), .controlCharacter(0x0D))
        XCTAssertEqual(LoginName.validate("alice\n"), .controlCharacter(0x0A))
        XCTAssertEqual(LoginName.validate("al\tice"), .controlCharacter(0x09))
        XCTAssertEqual(LoginName.validate("alice\u{7F}"), .controlCharacter(0x7F))
        XCTAssertEqual(LoginName.validate("alice\u{85}"), .controlCharacter(0x85))
    }

    func testTheAuthorizationIdentityMayBeAbsent() {
        XCTAssertNil(LoginName.validateOptional(String?.none))
        XCTAssertNil(LoginName.validateOptional(""))
        XCTAssertEqual(LoginName.validateOptional("admin\r\n"), .controlCharacter(0x0D))
    }
}
