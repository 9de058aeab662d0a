// The YAML configuration loader: any text either loads or is refused with ConfigErrors only, never empty,
// every issue naming this file and a line (and column) inside the text, in file order.
//
// Input: the YAML text (invalid UTF-8 is replaced).
import FuzzSupport
import PosternConfig

/// A folder that does not exist: relative paths in the config resolve there and every file check fails fast.
private let path = "/nonexistent-postern-fuzz/postern.yaml"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let text = input.remainderText()
    // YAML breaks lines at LF, CR, CRLF, NEL, LS and PS; a CRLF counted twice only loosens the bound.
    let breaks = text.unicodeScalars.filter { ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) }.count
    do {
        _ = try ConfigLoader.parse(yaml: text, path: path)
    } catch let errors as ConfigErrors {
        fuzzCheck(!errors.issues.isEmpty, "ConfigErrors without an issue")
        var previous = 0
        for issue in errors.issues {
            fuzzCheck(issue.file == path, "issue names file '\(issue.file)'")
            fuzzCheck(
                issue.line >= 1 && issue.line <= breaks + 1, "issue at line \(issue.line) of \(breaks + 1): \(issue)")
            fuzzCheck(issue.column >= 1, "issue at column \(issue.column): \(issue)")
            fuzzCheck(!issue.message.isEmpty, "issue without a message")
            fuzzCheck(issue.line >= previous, "issues out of order")
            previous = issue.line
        }
    } catch {
        fuzzCheck(false, "the loader threw \(type(of: error)), not ConfigErrors: \(error)")
    }
    return 0
}

@_cdecl("FuzzConfigLoader_main")
public func fuzzConfigLoaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzConfigLoader)
}
