// The POP3 (and SASL response) line reader against a model: split the stream at each LF; a line of at most
// maxLine bytes (a CR before the LF counts) comes out without its CR, a longer one is `.tooLong` once, and so
// is an unfinished tail over maxLine. The same events come out in one read, in the fuzzer's reads and byte
// by byte, and once the reader waits it holds at most maxLine bytes.
//
// Input: a control byte (maxLine), the reads (FuzzSplits), then the client's bytes.
import FuzzSupport

@testable import PosternProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPOP3Reader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let maxLine = [1, 8, 32, 128, 512, 2048][Int(input.byte() % 6)]
    let splits = FuzzSplits(&input)
    let stream = input.remainder()

    let expected = model(stream, maxLine: maxLine)
    let whole = feed([stream], maxLine: maxLine)
    fuzzCheck(whole == expected, "one read gave\n\(whole)\nnot\n\(expected)")
    let split = feed(splits.chunks(of: stream), maxLine: maxLine)
    fuzzCheck(split == expected, "the reads gave\n\(split)\nnot\n\(expected)")
    if stream.count <= 1024 {
        let bytewise = feed(FuzzSplits.bytewise(stream), maxLine: maxLine)
        fuzzCheck(bytewise == expected, "byte by byte gave\n\(bytewise)\nnot\n\(expected)")
    }
    return 0
}

private func model(_ stream: [UInt8], maxLine: Int) -> [LineReader.Event] {
    var events: [LineReader.Event] = []
    var start = 0
    while let lf = stream[start...].firstIndex(of: 10) {
        let line = stream[start..<lf]
        if line.count > maxLine {
            events.append(.tooLong)
        } else {
            events.append(.line(Array(line.last == 13 ? line.dropLast() : line)))
        }
        start = lf + 1
    }
    if stream.count - start > maxLine { events.append(.tooLong) }
    return events
}

private func feed(_ chunks: [[UInt8]], maxLine: Int) -> [LineReader.Event] {
    var reader = LineReader(maxLine: maxLine)
    var events: [LineReader.Event] = []
    var total = 0
    for chunk in chunks {
        reader.append(chunk)
        total += chunk.count
        fuzzCheck(reader.bufferedCount <= maxLine + chunk.count, "\(reader.bufferedCount) bytes buffered")
        while let event = reader.next() {
            events.append(event)
            fuzzCheck(events.count <= total + 1, "more events than bytes")
        }
        fuzzCheck(reader.bufferedCount <= maxLine, "\(reader.bufferedCount) bytes buffered > \(maxLine)")
    }
    return events
}

@_cdecl("FuzzPOP3Reader_main")
public func fuzzPOP3ReaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzPOP3Reader)
}
