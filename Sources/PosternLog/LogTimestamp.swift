/// RFC 3339 timestamps in UTC with milliseconds: `2026-11-29T03:29:28.123Z`, for log lines and the admin
/// API's JSON (without a Foundation date formatter, which builds ICU calendars each time).
public enum LogTimestamp {
    /// The timestamp of `secondsSinceEpoch`, to the nearest millisecond.
    public static func string(secondsSinceEpoch: Double) -> String {
        let milliseconds = Int64((secondsSinceEpoch * 1000).rounded())
        let remainder = ((milliseconds % 1000) + 1000) % 1000
        var out: [UInt8] = []
        out.reserveCapacity(24)
        append(seconds: (milliseconds - remainder) / 1000, nanoseconds: remainder * 1_000_000, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the timestamp for `seconds`/`nanoseconds` since the epoch.
    static func append(seconds: Int64, nanoseconds: Int64, to out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        appendDigits(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(min(max(nanoseconds, 0), 999_999_999) / 1_000_000, width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Year, month and day of the proleptic Gregorian calendar for days since 1970-01-01
    /// (Howard Hinnant's `civil_from_days`).
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func appendDigits(_ value: Int64, width: Int, to out: inout [UInt8]) {
        let value = max(value, 0)
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor <= value / 10 { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
