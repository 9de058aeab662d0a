/// Where finished log lines go. `write` gets one whole line, newline included, and must not split it.
public protocol LogSink: Sendable {
    /// Writes one line (it ends with `\n`).
    func write(line: [UInt8])
}
