import PosternConfig
import PosternMap
import XCTest

/// Regex maps in Perdition's popmap.re format: POSIX ERE, `$N` back-references, rule order.
final class RegexMapTests: XCTestCase {
    private func route(_ map: RegexMap, _ user: String) async throws -> Route? {
        try await map.lookup(user: user)
    }

    func testPerditionsExamplePopmapRe() async throws {
        // Perdition's own example file, as shipped.
        let text = """
            ######################################################################
            # popmap.re
            #
            # Format: <regular expression>: <server>[:<port>]
            ######################################################################

            ^[a-k]: localhost
            ^[^a-k]: localhost:110
            """
        let map = try RegexMap(text: text, path: "popmap.re")
        XCTAssertEqual(map.count, 2)
        let alice = try await route(map, "alice")
        let zed = try await route(map, "zed")
        XCTAssertEqual(alice?.servers, [BackendAddress(host: "localhost")])
        XCTAssertEqual(alice?.reason, "popmap.re:7 (regex)")
        XCTAssertEqual(zed?.servers, [BackendAddress(host: "localhost", port: 110)])
    }

    func testBackReferencesAndTheBackendUser() async throws {
        // Perdition's documented example: ([^.]*)@([^.]*)\.(.*):  $1_$2_$3@realimapserver
        let map = try RegexMap(
            text: "([^.]*)@([^.]*)\\.(.*):      $1_$2_$3@realimapserver\n^user-(.*)$: $1@10.0.0.2:1143\n",
            path: "re")
        let first = try await route(map, "alice@example.org")
        XCTAssertEqual(first?.servers, [BackendAddress(host: "realimapserver")])
        XCTAssertEqual(first?.backendUser, "alice_example_org")
        let second = try await route(map, "user-bob")
        XCTAssertEqual(second?.servers, [BackendAddress(host: "10.0.0.2", port: 1143)])
        XCTAssertEqual(second?.backendUser, "bob")
        XCTAssertEqual(map.value(for: "nobody")?.text, nil)
    }

    func testTextBeforeAnUnanchoredMatchIsKeptAsPerditionDoes() {
        let map = try? RegexMap(text: "b+: server-$0\n", path: "re")
        XCTAssertEqual(map?.value(for: "abbc")?.text, "aserver-bb")
    }

    func testATemplateMayNameAGroupMoreThanTenTimes() throws {
        // The 10-minute FuzzRegexMap run: a template with more than ten `$N` broke the target's length bound
        // (which assumed ten); the value is the template with each reference expanded, as Perdition does.
        let map = try RegexMap(text: "^(.*)$: $1$1$1$1$1$1$1$1$1$1$1$1.example.com\n", path: "re")
        XCTAssertEqual(map.value(for: "ab")?.text, String(repeating: "ab", count: 12) + ".example.com")
    }

    func testFirstOrLastMatchWins() async throws {
        let text = "^[a-c]: 10.0.0.2\n^alice$: 10.0.0.1\n"
        let first = try RegexMap(text: text, path: "re", matchOrder: .first)
        let last = try RegexMap(text: text, path: "re", matchOrder: .last)
        let aliceFirst = try await route(first, "alice")
        let aliceLast = try await route(last, "alice")
        let bobLast = try await route(last, "bob")
        XCTAssertEqual(aliceFirst?.servers.first?.host, "10.0.0.2")
        XCTAssertEqual(aliceLast?.servers.first?.host, "10.0.0.1")
        XCTAssertEqual(bobLast?.servers.first?.host, "10.0.0.2")
    }

    func testExtendedSyntaxAndCaseSensitivity() {
        let map = try? RegexMap(text: "^(ann|bea)(-[0-9]{2})?@x\\.org$: h1\n", path: "re")
        XCTAssertEqual(map?.value(for: "ann-42@x.org")?.text, "h1")
        XCTAssertEqual(map?.value(for: "bea@x.org")?.text, "h1")
        XCTAssertNil(map?.value(for: "ANN@x.org"))
        XCTAssertNil(map?.value(for: "ann-4@x.org"))
    }

    func testBadLinesNameTheirLine() {
        XCTAssertThrowsError(try RegexMap(text: "# ok\n^a: h\nno colon here\n", path: "re")) { error in
            guard let error = error as? FileMap.ParseError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.line, 3)
        }
        XCTAssertThrowsError(try RegexMap(text: "^(a: h\n", path: "re")) { error in
            guard let error = error as? FileMap.ParseError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.line, 1)
            XCTAssertTrue(error.message.contains("bad regular expression"), error.message)
        }
    }

    func testARuleThatExpandsToNoServerIsAnError() async throws {
        let map = try RegexMap(text: "^(.*)$: $1@\n", path: "re")
        do {
            _ = try await map.lookup(user: "x")
            XCTFail("expected an error")
        } catch {
            XCTAssertTrue("\(error)".contains("re:1"), "\(error)")
        }
    }

    func testFileMapTakesUserAtHostValuesAndPerditionColonKeys() async throws {
        let map = try FileMap(text: "alice: mailbox-7@10.0.0.1:1143\nbob 10.0.0.2,10.0.0.3\n", path: "popmap")
        let alice = try await map.lookup(user: "alice")
        XCTAssertEqual(alice?.backendUser, "mailbox-7")
        XCTAssertEqual(alice?.servers, [BackendAddress(host: "10.0.0.1", port: 1143)])
        let bob = try await map.lookup(user: "bob")
        XCTAssertNil(bob?.backendUser)
        XCTAssertEqual(bob?.servers.count, 2)
    }
}
