import PosternMap
import XCTest

/// RFC 4515 escaping of assertion values, and filter templates.
final class LDAPFilterTests: XCTestCase {
    func testSpecialCharactersAreEscaped() {
        XCTAssertEqual(LDAPFilter.escape("alice"), "alice")
        XCTAssertEqual(LDAPFilter.escape("*"), "\\2a")
        XCTAssertEqual(LDAPFilter.escape("*)(uid=*"), "\\2a\\29\\28uid=\\2a")
        XCTAssertEqual(LDAPFilter.escape("\\2a"), "\\5c2a")
        XCTAssertEqual(LDAPFilter.escape("a\u{0}b"), "a\\00b")
        XCTAssertEqual(LDAPFilter.escape("(a)"), "\\28a\\29")
        // Non-ASCII is escaped byte by byte (UTF-8), which RFC 4515 allows and every server reads.
        XCTAssertEqual(LDAPFilter.escape("jürgen"), "j\\c3\\bcrgen")
        XCTAssertEqual(LDAPFilter.escape("tab\there"), "tab\\09here")
        XCTAssertEqual(LDAPFilter.escape("o'neil@example.org"), "o'neil@example.org")
    }

    func testEscapedValuesCannotChangeTheFilterStructure() {
        let hostile = ["*)(uid=*", "*", "\\2a", "x)(|(objectClass=*", "a\u{0}", "((", "))", "\\"]
        for name in hostile {
            let filter = LDAPFilter.build(
                "(&(objectClass=person)(uid={user}))",
                TemplateValues(
                    user: name, delimiter: "@", clientIP: nil))
            // Only the template's own parentheses and no unescaped '*' remain.
            XCTAssertEqual(filter.filter { $0 == "(" }.count, 3, filter)
            XCTAssertEqual(filter.filter { $0 == ")" }.count, 3, filter)
            XCTAssertFalse(filter.contains("*"), filter)
            XCTAssertFalse(filter.utf8.contains(0), filter)
        }
    }

    func testTemplatePlaceholders() {
        let values = TemplateValues(user: "Alice@Example.org", delimiter: "@", clientIP: "192.0.2.7")
        XCTAssertEqual(values.local, "Alice")
        XCTAssertEqual(values.domain, "Example.org")
        XCTAssertEqual(
            LDAPFilter.build("(&(uid={local})(associatedDomain={domain})(ip={client_ip})(mail={user}))", values),
            "(&(uid=Alice)(associatedDomain=Example.org)(ip=192.0.2.7)(mail=Alice@Example.org))")
        XCTAssertEqual(Template.expand("{unknown} {user", values), "{unknown} {user")
        let noDomain = TemplateValues(user: "bob", delimiter: "@", clientIP: nil)
        XCTAssertEqual(Template.expand("[{local}|{domain}|{client_ip}]", noDomain), "[bob||]")
        let percent = TemplateValues(user: "bob%example.org", delimiter: "%", clientIP: nil)
        XCTAssertEqual(Template.expand("{local}@{domain}", percent), "bob@example.org")
        XCTAssertTrue(Template.uses("(uid={user})(ip={client_ip})", "client_ip"))
        XCTAssertFalse(Template.uses("(uid={user})", "client_ip"))
    }
}
