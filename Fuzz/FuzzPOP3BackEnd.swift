// The POP3 back-end login fed hostile backend bytes (greeting, capabilities, STARTTLS reply, login reply) in
// reads and with TLS handshakes the fuzzer picks (Fuzz/Support/FuzzBackEndSupport). Asserts: the credentials
// (raw, base64, in a PLAIN message or a token response) are sent at most once, and with use_starttls only
// after the handshake (or after the plaintext-fallback warning, when allowed); STARTTLS only when asked for,
// at most once; the bytes after a STARTTLS OK are never interpreted (a machine fed the read only up to the
// OK acts the same, then and later) and nothing is read while the handshake runs; a machine still waiting
// has read at most the capability bound and a few protocol lines; the outcome comes once and last, is
// `.succeeded` (its leftover exactly what followed the final line) or `.failed` with `.rejected` or
// `.unavailable` (a fixed reason), client-visible texts are one line, and no credential is kept after it;
// output stays within 64 × the input + 8 KiB.
import FuzzBackEndSupport
import FuzzSupport
import PosternProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPOP3BackEnd(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    BackEndFuzzer<POP3BackEndLogin>.fuzz(data, size, unit: .lines)
    return 0
}

@_cdecl("FuzzPOP3BackEnd_main")
public func fuzzPOP3BackEndMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzPOP3BackEnd)
}
