import PosternConfig
import PosternImport
import XCTest

/// Hostile perdition.conf text (regressions found by FuzzPerditionImport, docs/hardening.md): the YAML
/// written always parses, and no value adds a key or ends a comment early.
final class PerditionImportHardeningTests: XCTestCase {
    /// The issues the config loader finds in the imported YAML that mean the importer wrote broken YAML.
    private func yamlProblems(_ conf: String) -> [ConfigIssue] {
        let yaml = PerditionImporter(confPath: "/etc/perdition/perdition.conf", text: conf).convert().yaml
        do {
            _ = try ConfigLoader.parse(yaml: yaml, path: "/nonexistent/postern.yaml")
            return []
        } catch {
            let issues = (error as? ConfigErrors)?.issues ?? []
            return issues.filter {
                $0.message.contains("YAML") || $0.message.contains("unknown key") || $0.message.contains("duplicate")
            }
        }
    }

    func testAControlCharacterInAValueDoesNotBreakTheYAML() {
        // FuzzPerditionImport: a backspace in the map library's name went raw into a comment, and libyaml
        // refuses control characters anywhere.
        let conf = "M /usr/lib/Unsafe\u{8}perditiondb_gdbm.so\nm /etc/epgberd.ro\u{8}m /etc/popmap.db\nq\nF mail\n"
        XCTAssertEqual(yamlProblems(conf), [])
        XCTAssertEqual(yamlProblems("protocol IMAP4\u{7F}\u{85}x\nssl_mode tls_listen\u{2028}\n"), [])
    }

    func testALineBreakInAValueCannotAddAKey() {
        // A CR or NEL ends a YAML comment: the rest of the value would become YAML of its own.
        for breakCharacter in ["\r", "\u{85}", "\u{2028}", "\u{2029}"] {
            let conf = "query_key x\(breakCharacter)limits: {max_sessions: 1}\nbogus \(breakCharacter)server: {}\n"
            XCTAssertEqual(yamlProblems(conf), [], breakCharacter.debugDescription)
        }
    }

    func testUnquotedValuesAreQuotedWhenTheyAreNotPlain() {
        let port = PerditionImporter(confPath: "/p.conf", text: "outgoing_port 1}, evil: {\n").convert().yaml
        XCTAssertTrue(port.contains("backend: { port: \"1}, evil: {\", tls: none }"), port)
        XCTAssertEqual(yamlProblems("outgoing_port 1}, evil: {\n"), [])
        let url = "map_library ldap\nmap_library_opt ldap://h/b?a: b,mailHost,null?sub?(uid=%s)\n"
        let ldap = PerditionImporter(confPath: "/p.conf", text: url).convert().yaml
        XCTAssertTrue(ldap.contains("user_attribute: \"a: b\""), ldap)
        XCTAssertTrue(ldap.contains("host_attribute: mailHost"), ldap)
        XCTAssertTrue(ldap.contains("port_attribute: \"null\""), ldap)
        XCTAssertEqual(yamlProblems(url), [])
    }

    func testAnLDAPURLExtensionWithoutATypeIsSkipped() throws {
        // Found by reading while writing FuzzPerditionImport: a lone `!` (or `=x`) indexed an empty split.
        for text in ["ldap://h/b?a?s?f?!", "ldap://h/b?a?s?f?=x,!,,!=", "ldap://h/b?a?s?f?!,bindname=cn=a"] {
            let url = try XCTUnwrap(PerditionLDAPURL.parse(text), text)
            XCTAssertEqual(url.otherExtensions, [], text)
        }
        XCTAssertEqual(PerditionLDAPURL.parse("ldap://h/b?a?s?f?!,bindname=cn=a")?.bindName, "cn=a")
        let conf = "map_library ldap\nmap_library_opt ldap://h/b?a?s?f?!\n"
        XCTAssertEqual(yamlProblems(conf), [])
    }
}
