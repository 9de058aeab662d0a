import PosternImport
import XCTest

/// Reading perdition.conf and its LDAP URL, and the YAML the importer writes.
final class PerditionImportTests: XCTestCase {
    func testConfSyntaxShortNamesQuotesAndContinuations() {
        let conf = PerditionConf(
            text: """
                # comment
                P IMAP4
                s  a.example:143,b.example   # trailing comment
                D "%"
                m 'ldap://h/dc=x?uid?sub?(uid=%s)'
                strip_domain \\
                  servername_lookup
                debug
                """)
        XCTAssertEqual(conf.value("protocol"), "IMAP4")
        XCTAssertEqual(conf.value("outgoing_server"), "a.example:143,b.example")
        XCTAssertEqual(conf.value("domain_delimiter"), "%")
        XCTAssertEqual(conf.value("map_library_opt"), "ldap://h/dc=x?uid?sub?(uid=%s)")
        XCTAssertEqual(conf.value("strip_domain"), "servername_lookup")
        XCTAssertTrue(conf.has("debug"))
        XCTAssertFalse(conf.has("quiet"))
    }

    func testLDAPURL() throws {
        let url = try XCTUnwrap(
            PerditionLDAPURL.parse(
                "ldap://dir.example:3389/ou=people,dc=x?mailUser,mailHost,mailPort?one?(uid=%s)"
                    + "?bindname=cn=p%2cdc=x,!x-bindpw=s%3acret,x-other=1"))
        XCTAssertEqual(url.hostPort, "dir.example:3389")
        XCTAssertEqual(url.base, "ou=people,dc=x")
        XCTAssertEqual(url.attributes, ["mailUser", "mailHost", "mailPort"])
        XCTAssertEqual(url.scope, "one")
        XCTAssertEqual(url.filter, "(uid=%s)")
        XCTAssertEqual(url.bindName, "cn=p,dc=x")
        XCTAssertEqual(url.bindPassword, "s:cret")
        XCTAssertEqual(url.otherExtensions, ["x-other"])
        XCTAssertNil(PerditionLDAPURL.parse("http://x/"))
    }

    func testLDAPImportKeepsThePasswordOutOfTheYAML() {
        let importer = PerditionImporter(
            confPath: "/etc/perdition/perdition.conf",
            text: """
                protocol IMAP4S
                map_library /usr/lib/libperditiondb_ldap.so
                map_library_opt ldap://127.0.0.1/dc=x?mailHost?sub?(mail=%s)?bindname=cn=a,x-bindpw=hunter2
                client_server_specification
                inetd_mode
                """)
        let out = importer.convert()
        XCTAssertEqual(out.secret, "hunter2")
        XCTAssertFalse(out.yaml.contains("hunter2"), out.yaml)
        XCTAssertTrue(out.yaml.contains("filter: \"(mail={user})\""), out.yaml)
        XCTAssertTrue(out.yaml.contains("host_attribute: mailHost"), out.yaml)
        XCTAssertTrue(out.yaml.contains("tls: implicit"), out.yaml)
        XCTAssertTrue(out.yaml.contains("listen: [\"0.0.0.0:993\"]"), out.yaml)
        XCTAssertTrue(out.yaml.contains("NOT CARRIED OVER: client_server_specification"), out.yaml)
        XCTAssertTrue(out.yaml.contains("#   inetd_mode (line 5)"), out.yaml)
        XCTAssertEqual(out.notCarried.count, 2, "\(out.notCarried)")
    }

    func testRegexImportTakesThePopmapAsItIs() {
        let out = PerditionImporter(
            confPath: "/etc/perdition/perdition.conf",
            text: "M /usr/lib/libperditiondb_posix_regex.so\nm popmap.re\nU\nS all\nlower_case remote_login\n"
        ).convert()
        XCTAssertTrue(out.yaml.contains("regex: \"/etc/perdition/popmap.re\""), out.yaml)
        XCTAssertTrue(out.yaml.contains("regex_match: first"), out.yaml)
        XCTAssertTrue(out.yaml.contains("from_map: true"), out.yaml)
        XCTAssertTrue(out.yaml.contains("lookup: { strip_domain: true }"), out.yaml)
        XCTAssertTrue(out.yaml.contains("login: { strip_domain: true, lower_case: all }"), out.yaml)
        XCTAssertTrue(out.yaml.contains("protocol: pop3"), out.yaml)
    }
}
