/// What this build of Postern is: shown by `postern --version` and exported as `postern_build_info{version}`.
public enum BuildInfo {
    /// The release version (semantic versioning).
    public static let version = "0.9.0"
}
