@testable import PosternServer

/// Reads one series from a `Stats` exposition: `value(of: "name{labels}")`, nil when absent.
extension Stats {
    func value(of series: String) -> Double? {
        let text = String(decoding: render(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
