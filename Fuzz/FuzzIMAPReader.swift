// The IMAP command reader: the same events come out whatever the reads (when no synchronizing literal is in
// the stream: a literal's header is checked only while its data is missing, by design), in one read, in the
// fuzzer's reads and byte by byte; the buffer stays within the command bound (4 × maxLine) once the reader
// waits; every command keeps the limits (valid tag, name, strings and literals within maxLine, at most 32
// literals, lists at most five deep) and, written out again, parses to the same command.
//
// Input: a control byte (maxLine; whether AUTHENTICATE takes a response line next), the reads (FuzzSplits),
// then the client's bytes.
import FuzzSupport

@testable import PosternProtocol

private enum Seen: Equatable {
    case event(IMAPCommandReader.Event)
    case line(IMAPCommandReader.Line)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIMAPReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let control = input.byte()
    let maxLine = [8, 32, 128, 512, 2048][Int(control % 5)]
    let saslLines = control & 0x80 != 0
    let splits = FuzzSplits(&input)
    let stream = input.remainder()

    let whole = feed([stream], maxLine: maxLine, saslLines: saslLines)
    let split = feed(splits.chunks(of: stream), maxLine: maxLine, saslLines: saslLines)
    guard !holdsSynchronizingLiteral(stream) else { return 0 }
    fuzzCheck(split == whole, "events depend on the reads:\n\(split)\n---\n\(whole)")
    if stream.count <= 512 {
        let bytewise = feed(FuzzSplits.bytewise(stream), maxLine: maxLine, saslLines: saslLines)
        fuzzCheck(bytewise == whole, "events differ byte by byte:\n\(bytewise)\n---\n\(whole)")
    }
    return 0
}

/// Feeds the reads as the front end does (a response line after AUTHENTICATE when `saslLines`), checking the
/// bounds after each; returns what came out.
private func feed(_ chunks: [[UInt8]], maxLine: Int, saslLines: Bool) -> [Seen] {
    var reader = IMAPCommandReader(maxLine: maxLine)
    var seen: [Seen] = []
    var wantLine = false
    var total = 0
    for chunk in chunks {
        reader.append(chunk)
        total += chunk.count
        fuzzCheck(reader.bufferedCount <= reader.maxCommand + chunk.count, "\(reader.bufferedCount) bytes buffered")
        while true {
            fuzzCheck(seen.count <= total + 2, "more events (\(seen.count)) than bytes (\(total))")
            if wantLine {
                guard let line = reader.nextLine() else { break }
                wantLine = false
                if case .line(let bytes) = line {
                    fuzzCheck(bytes.count <= maxLine && !bytes.contains(10), "response line of \(bytes.count) bytes")
                }
                seen.append(.line(line))
                continue
            }
            guard let event = reader.next() else { break }
            check(event, maxLine: maxLine)
            if case .command(let command) = event, command.name == "AUTHENTICATE", saslLines { wantLine = true }
            seen.append(.event(event))
        }
        fuzzCheck(
            reader.bufferedCount <= reader.maxCommand, "\(reader.bufferedCount) bytes buffered > \(reader.maxCommand)")
    }
    return seen
}

private func check(_ event: IMAPCommandReader.Event, maxLine: Int) {
    switch event {
    case .command(let command):
        fuzzCheck(IMAPCommandReader.validTag(Array(command.tag.utf8)) == command.tag, "tag '\(command.tag)'")
        fuzzCheck(
            !command.name.isEmpty && command.name.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || $0 == 45 },
            "command name '\(command.name)'")
        var literals = 0
        var stringBytes = 0
        for argument in command.arguments {
            checkArgument(argument, depth: 0, maxLine: maxLine, literals: &literals, stringBytes: &stringBytes)
        }
        fuzzCheck(literals <= IMAPCommandReader.maxLiterals, "\(literals) literals")
        fuzzCheck(stringBytes <= 4 * maxLine, "\(stringBytes) bytes of strings in one command")
        checkRoundTrip(command)
    case .bad(let tag?, let reason), .unrecoverable(let tag?, let reason):
        fuzzCheck(IMAPCommandReader.validTag(Array(tag.utf8)) == tag, "tag '\(tag)'")
        fuzzCheck(!reason.isEmpty && reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "reason '\(reason)'")
    case .tooLong(let tag?):
        fuzzCheck(IMAPCommandReader.validTag(Array(tag.utf8)) == tag, "tag '\(tag)'")
    case .bad(nil, let reason), .unrecoverable(nil, let reason):
        fuzzCheck(!reason.isEmpty && reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "reason '\(reason)'")
    case .tooLong(nil), .continuationNeeded:
        break
    }
}

private func checkArgument(
    _ argument: IMAPArgument, depth: Int, maxLine: Int, literals: inout Int, stringBytes: inout Int
) {
    switch argument {
    case .atom(let text):
        fuzzCheck(!text.isEmpty, "empty atom")
        fuzzCheck(
            !text.utf8.contains { $0 <= 0x20 || $0 == 0x7F || $0 == 0x28 || $0 == 0x29 || $0 == 0x7B || $0 == 0x22 },
            "atom '\(text)'")
    case .string(let bytes):
        fuzzCheck(bytes.count <= maxLine, "string of \(bytes.count) bytes over \(maxLine)")
        fuzzCheck(!bytes.contains(0), "NUL in a string")
        if bytes.contains(13) || bytes.contains(10) { literals += 1 }
        stringBytes += bytes.count
    case .list(let items):
        fuzzCheck(depth < 5, "list nested \(depth + 1) deep")
        for item in items {
            checkArgument(item, depth: depth + 1, maxLine: maxLine, literals: &literals, stringBytes: &stringBytes)
        }
    }
}

/// The command written out (strings quoted, or as literals when they hold CR or LF) parses to itself.
private func checkRoundTrip(_ command: IMAPCommand) {
    var text = Array("\(command.tag) \(command.name)".utf8)
    for argument in command.arguments { text += [32] + encode(argument) }
    text += [13, 10]
    var reader = IMAPCommandReader(maxLine: 1 << 20)
    reader.append(text)
    let again = reader.next()
    fuzzCheck(again == .command(command), "\(command) written out parses to \(String(describing: again))")
}

private func encode(_ argument: IMAPArgument) -> [UInt8] {
    switch argument {
    case .atom(let text): return Array(text.utf8)
    case .string(let bytes):
        if bytes.contains(13) || bytes.contains(10) { return Array("{\(bytes.count)+}\r\n".utf8) + bytes }
        var out: [UInt8] = [34]
        for byte in bytes {
            if byte == 34 || byte == 92 { out.append(92) }
            out.append(byte)
        }
        return out + [34]
    case .list(let items):
        var out: [UInt8] = [40]
        for (index, item) in items.enumerated() { out += (index > 0 ? [32] : []) + encode(item) }
        return out + [41]
    }
}

/// Whether a line of the stream ends in a synchronizing literal header `{n}` (conservative: literal data is
/// not skipped).
private func holdsSynchronizingLiteral(_ stream: [UInt8]) -> Bool {
    var from = 0
    while let lf = stream[from...].firstIndex(of: 10) {
        let end = lf > from && stream[lf - 1] == 13 ? lf - 1 : lf
        if let header = IMAPCommandReader.literalHeader(stream[max(from, end - 14)..<end]), !header.nonSync {
            return true
        }
        from = lf + 1
    }
    return false
}

@_cdecl("FuzzIMAPReader_main")
public func fuzzIMAPReaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzIMAPReader)
}
