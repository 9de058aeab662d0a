/// Whether glibc's `regcomp` may take exponential time or memory on this text: counted repeats (`{`),
/// back-references (`\`), and stacked repetition (`a+++`, `(a*)+`), which it expands copy by copy.
/// Regex rules are the operator's own file, so the regex targets leave such texts out instead of fuzzing
/// the C library (docs/hardening.md).
public func regcompMayExplode(_ text: some Collection<UInt8>) -> Bool {
    var afterRepetition = false
    for byte in text {
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "\\"): return true
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            if afterRepetition { return true }
            afterRepetition = true
        case UInt8(ascii: ")"): break
        default: afterRepetition = false
        }
    }
    return false
}
