// The ManageSieve command reader: the same logical lines come out in one read, in the fuzzer's reads and
// byte by byte; once the reader waits it holds at most 4 × maxLine bytes; every logical line keeps the
// limits (at most 4 × maxLine bytes, text and literal segments alternating inside it, each at most maxLine,
// at most 32 literals), and a line that parses as a command, written out again, parses to the same command.
//
// Input: a control byte (maxLine), the reads (FuzzSplits), then the client's bytes.
import FuzzSupport

@testable import PosternProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSieveReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let maxLine = [8, 32, 128, 512, 2048][Int(input.byte() % 5)]
    let splits = FuzzSplits(&input)
    let stream = input.remainder()

    let whole = feed([stream], maxLine: maxLine)
    let split = feed(splits.chunks(of: stream), maxLine: maxLine)
    fuzzCheck(split == whole, "events depend on the reads:\n\(split)\n---\n\(whole)")
    if stream.count <= 512 {
        let bytewise = feed(FuzzSplits.bytewise(stream), maxLine: maxLine)
        fuzzCheck(bytewise == whole, "events differ byte by byte:\n\(bytewise)\n---\n\(whole)")
    }
    return 0
}

private func feed(_ chunks: [[UInt8]], maxLine: Int) -> [SieveCommandReader.Event] {
    var reader = SieveCommandReader(maxLine: maxLine)
    var events: [SieveCommandReader.Event] = []
    var total = 0
    for chunk in chunks {
        reader.append(chunk)
        total += chunk.count
        fuzzCheck(reader.bufferedCount <= reader.maxCommand + chunk.count, "\(reader.bufferedCount) bytes buffered")
        while let event = reader.next() {
            if case .line(let bytes, let segments) = event { check(bytes, segments, maxLine: maxLine) }
            events.append(event)
            fuzzCheck(events.count <= total + 1, "more events than bytes")
        }
        fuzzCheck(
            reader.bufferedCount <= reader.maxCommand, "\(reader.bufferedCount) bytes buffered > \(reader.maxCommand)")
    }
    return events
}

private func check(_ bytes: [UInt8], _ segments: [Range<Int>], maxLine: Int) {
    fuzzCheck(bytes.count <= 4 * maxLine, "logical line of \(bytes.count) bytes")
    fuzzCheck(segments.count % 2 == 1, "\(segments.count) segments")
    fuzzCheck(segments.count / 2 <= IMAPCommandReader.maxLiterals, "\(segments.count / 2) literals")
    var end = 0
    for (index, segment) in segments.enumerated() {
        fuzzCheck(segment.lowerBound >= end && segment.upperBound <= bytes.count, "segment \(segment) out of order")
        fuzzCheck(segment.count <= maxLine, "segment of \(segment.count) bytes")
        if index % 2 == 0 {
            fuzzCheck(!bytes[segment].contains(10), "LF inside a text segment")
            if index + 1 < segments.count {
                fuzzCheck(
                    IMAPCommandReader.literalHeader(bytes[segment]) != nil, "text before a literal has no header")
            }
        }
        end = segment.upperBound
    }
    guard case .success(let command) = SieveCommandReader.parseCommand(bytes: bytes, segments: segments) else {
        return
    }
    fuzzCheck(
        !command.name.isEmpty && command.name.utf8.allSatisfy { $0 >= 65 && $0 <= 90 }, "name '\(command.name)'")
    var text = Array(command.name.utf8)
    for argument in command.arguments {
        switch argument {
        case .atom(let atom): text += [32] + Array(atom.utf8)
        case .string(let data): text += Array(" {\(data.count)+}\r\n".utf8) + data
        case .list: fuzzCheck(false, "a list in a ManageSieve command")
        }
    }
    var reader = SieveCommandReader(maxLine: 1 << 20)
    reader.append(text + [13, 10])
    guard case .line(let again, let againSegments) = reader.next() else {
        fuzzCheck(false, "\(command) written out is not a line")
        return
    }
    let parsed = SieveCommandReader.parseCommand(bytes: again, segments: againSegments)
    guard case .success(let same) = parsed, same == command else {
        fuzzCheck(false, "\(command) written out parses to \(parsed)")
        return
    }
}

@_cdecl("FuzzSieveReader_main")
public func fuzzSieveReaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzSieveReader)
}
