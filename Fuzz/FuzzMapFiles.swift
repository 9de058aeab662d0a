// The file map (`user host[:port]` lines) and regex map (`REGEX: VALUE` lines) text parsers: an error names a
// line of the text; a parsed file map finds each of its users at the line that gave it, with clean servers.
//
// Input: one control byte (bit 0: file map or regex map), then the text.
import FuzzSupport
import PosternMap

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMapFiles(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let control = input.byte()
    let text = input.remainderText()
    // Lines as both parsers count them: LF and CRLF end a line.
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    if control & 1 == 0 {
        checkFileMap(text, lines: lines)
    } else {
        checkRegexMap(text, lines: lines)
    }
    return 0
}

private func checkFileMap(_ text: String, lines: [Substring]) {
    let map: FileMap
    do {
        map = try FileMap(text: text, path: "users.map")
    } catch let error as FileMap.ParseError {
        fuzzCheck((1...lines.count).contains(error.line), "file map error at line \(error.line) of \(lines.count)")
        fuzzCheck(!error.message.isEmpty, "file map error without a message")
        return
    } catch {
        fuzzCheck(false, "file map threw \(error)")
        return
    }
    var entries = 0
    for (index, line) in lines.enumerated() {
        let content = line.prefix { $0 != "#" }
        let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
        guard var key = fields.first.map(String.init) else { continue }
        if key.count > 1, key.hasSuffix(":") { key.removeLast() }
        if key.hasPrefix("*@") { continue }
        entries += 1
        guard let (entry, _) = map.entry(for: key) else {
            fuzzCheck(false, "user '\(key)' of line \(index + 1) not found")
            continue
        }
        // The first line for a user wins; a later duplicate finds the earlier line.
        fuzzCheck(entry.line <= index + 1, "user '\(key)' of line \(index + 1) found at line \(entry.line)")
        fuzzCheck(!entry.servers.isEmpty, "entry without servers")
        for server in entry.servers {
            fuzzCheck(!server.host.isEmpty, "empty host")
            fuzzCheck(
                !server.host.unicodeScalars.contains {
                    $0.value < 0x21 || $0.value == 0x7F || "@,[]".unicodeScalars.contains($0)
                },
                "host '\(server.host.debugDescription)' with a separator or control character")
        }
    }
    fuzzCheck(map.count <= entries + lines.count, "more entries than lines")
}

private func checkRegexMap(_ text: String, lines: [Substring]) {
    guard !regcompMayExplode(text.utf8) else { return }
    do {
        let map = try RegexMap(text: text, path: "popmap.re")
        let ruleLines = lines.filter { line in
            !line.prefix { $0 != "#" }.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }
        }
        fuzzCheck(map.count == ruleLines.count, "\(map.count) rules from \(ruleLines.count) rule lines")
    } catch {
        fuzzCheck((1...lines.count).contains(error.line), "regex map error at line \(error.line) of \(lines.count)")
        fuzzCheck(!error.message.isEmpty, "regex map error without a message")
    }
}

@_cdecl("FuzzMapFiles_main")
public func fuzzMapFilesMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzMapFiles)
}
