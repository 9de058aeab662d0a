/// The shape of a log line, as `server.log_format` names it: `text` for people, `logfmt` and `json` for parsers.
public enum LogFormat: String, CaseIterable, Sendable {
    /// `TS LEVEL message key=value ...`: the message bare (control characters escaped), values as in logfmt.
    case text
    /// `ts=TS level=LEVEL msg="message" key=value ...`, values quoted when they need it.
    case logfmt
    /// One JSON object per line: `{"ts":"TS","level":"LEVEL","msg":"message","key":"value",...}`.
    case json
}
