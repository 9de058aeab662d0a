// The admin API's HTTP/1.1 request parser: the answer does not depend on how the bytes were split into
// reads; a request stays within its limits (head, body, header count), its body is the bytes after the head,
// its fields are clean (token names, no CR, LF or NUL in values, one Host), and a failed parser stays failed.
//
// Input: two control bytes (the limits), one byte seeding how the rest is split into reads, then the bytes.
import FuzzSupport
import PosternAdmin

private enum Outcome: Equatable {
    case progress(AdminHTTPRequestParser.Progress)
    case failed(AdminHTTPError)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAdminHTTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let first = input.byte()
    let second = input.byte()
    let seed = input.byte()
    let limits = AdminHTTPLimits(
        headBytes: 64 << Int(first % 8), bodyBytes: [0, 16, 1024, 65_536][Int(second % 4)],
        headers: [1, 4, 16, 64][Int(second / 4 % 4)])
    let bytes = input.remainder()

    var whole = AdminHTTPRequestParser(limits: limits)
    let wholeOutcome = feed(&whole, bytes[...])
    var split = AdminHTTPRequestParser(limits: limits)
    var splitOutcome = Outcome.progress(.needMore)
    var offset = 0
    var state = UInt32(seed) | 1
    while offset < bytes.count {
        state = state &* 1_103_515_245 &+ 12345
        let length = min(bytes.count - offset, Int((state >> 16) % 17) + 1)
        splitOutcome = feed(&split, bytes[offset..<(offset + length)])
        offset += length
        if case .failed = splitOutcome { break }
    }
    if bytes.isEmpty { splitOutcome = feed(&split, bytes[...]) }
    fuzzCheck(splitOutcome == wholeOutcome, "split reads gave \(splitOutcome), one read \(wholeOutcome)")

    switch wholeOutcome {
    case .failed(let error):
        fuzzCheck(feed(&whole, [0x41]) == .failed(error), "a failed parser accepted more bytes")
    case .progress(.needMore):
        fuzzCheck(
            bytes.count <= limits.headBytes, "needMore after \(bytes.count) bytes (head limit \(limits.headBytes))")
    case .progress(.needBody):
        fuzzCheck(bytes.count < limits.headBytes + limits.bodyBytes, "needBody after \(bytes.count) bytes")
    case .progress(.complete(let request)):
        checkRequest(request, bytes: bytes, trailing: whole.trailingBytes, limits: limits)
        fuzzCheck(split.trailingBytes == whole.trailingBytes, "trailing bytes depend on the reads")
        let before = whole.trailingBytes
        fuzzCheck(feed(&whole, [0x41, 0x42]) == wholeOutcome, "a complete request changed with more bytes")
        fuzzCheck(whole.trailingBytes == before + 2, "bytes after the request not counted")
    }
    return 0
}

private func feed(_ parser: inout AdminHTTPRequestParser, _ bytes: some Collection<UInt8>) -> Outcome {
    do {
        return .progress(try parser.feed(bytes))
    } catch {
        return .failed(error)
    }
}

private func checkRequest(_ request: AdminHTTPRequest, bytes: [UInt8], trailing: Int, limits: AdminHTTPLimits) {
    let body = request.body
    fuzzCheck(body.count <= limits.bodyBytes, "body of \(body.count) bytes over \(limits.bodyBytes)")
    fuzzCheck(trailing >= 0 && trailing + body.count <= bytes.count, "trailing \(trailing) + body \(body.count)")
    let headLength = bytes.count - trailing - body.count
    fuzzCheck(headLength <= limits.headBytes, "head of \(headLength) bytes over \(limits.headBytes)")
    fuzzCheck(Array(bytes[headLength..<(headLength + body.count)]) == body, "body is not the bytes after the head")
    fuzzCheck(request.headers.fields.count <= limits.headers, "\(request.headers.fields.count) header fields")
    fuzzCheck(request.target.utf8.count < headLength, "target longer than the head")
    fuzzCheck(request.target.hasPrefix("/") && request.target.hasPrefix(request.path), "target '\(request.target)'")
    fuzzCheck(request.target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "#") }, "target bytes")
    for field in request.headers.fields {
        fuzzCheck(!field.name.isEmpty && field.name == field.name.lowercased(), "header name '\(field.name)'")
        fuzzCheck(field.name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }, "name bytes")
        fuzzCheck(!field.value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }, "CR, LF or NUL in a value")
        let edges = [field.value.utf8.first, field.value.utf8.last].compactMap { $0 }
        fuzzCheck(!edges.contains { $0 == 0x20 || $0 == 0x09 }, "value with surrounding blanks")
    }
    let hosts = request.headers.values("host").count
    fuzzCheck(hosts == 1 || (hosts == 0 && request.version == .http10), "\(hosts) Host headers")
    fuzzCheck(request.headers.values("transfer-encoding").isEmpty, "Transfer-Encoding accepted")
    fuzzCheck(request.headers.values("content-length").count <= 1, "several Content-Length accepted")
    if let token = request.bearerToken {
        fuzzCheck(!token.isEmpty && !token.utf8.contains { $0 <= 0x20 || $0 >= 0x7F }, "bearer token '\(token)'")
    }
    _ = try? request.formParameters()
}

@_cdecl("FuzzAdminHTTP_main")
public func fuzzAdminHTTPMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzAdminHTTP)
}
