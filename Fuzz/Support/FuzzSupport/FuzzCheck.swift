/// Stops the run when an invariant does not hold: the trap makes libFuzzer save the input as a crash.
public func fuzzCheck(
    _ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
) {
    if !condition { fatalError("invariant violated: \(message())", file: file, line: line) }
}
