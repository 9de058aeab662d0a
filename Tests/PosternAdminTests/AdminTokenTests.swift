import Foundation
import PosternAdmin
import XCTest

/// The admin token: constant-time comparison, reading the token file, never shown.
final class AdminTokenTests: XCTestCase {
    func testConstantTimeEquals() {
        XCTAssertTrue(AdminToken.constantTimeEquals(Array("secret".utf8), Array("secret".utf8)))
        XCTAssertFalse(AdminToken.constantTimeEquals(Array("secret".utf8), Array("secreT".utf8)))
        XCTAssertFalse(AdminToken.constantTimeEquals(Array("secret".utf8), Array("secret2".utf8)))
        XCTAssertFalse(AdminToken.constantTimeEquals(Array("secret".utf8), []))
        XCTAssertFalse(AdminToken.constantTimeEquals(Array("a".utf8), Array("a\u{0}".utf8)))
        XCTAssertTrue(AdminToken.constantTimeEquals([], []))
    }

    func testMatches() throws {
        let token = try XCTUnwrap(AdminToken(secret: "s3cr3t"))
        XCTAssertTrue(token.matches("s3cr3t"))
        XCTAssertFalse(token.matches("s3cr3"))
        XCTAssertFalse(token.matches(nil))
        XCTAssertNil(AdminToken(secret: ""))
        XCTAssertFalse("\(token)".contains("s3cr3t"))
        XCTAssertFalse(String(reflecting: token).contains("s3cr3t"))
    }

    func testReadingTheTokenFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("postern-token-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("admin.token").path
        try Data("  tok-123\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertTrue(try AdminToken.read(path: path).matches("tok-123"))
        try Data("\n \n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try AdminToken.read(path: path)) {
            XCTAssertEqual($0 as? AdminTokenError, .empty(path: path))
        }
        try Data(repeating: 0x61, count: 5000).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try AdminToken.read(path: path)) {
            XCTAssertEqual($0 as? AdminTokenError, .tooLarge(path: path))
        }
        let missing = folder.appendingPathComponent("missing").path
        XCTAssertThrowsError(try AdminToken.read(path: missing)) {
            XCTAssertEqual($0 as? AdminTokenError, .unreadable(path: missing, errno: ENOENT))
        }
    }
}
