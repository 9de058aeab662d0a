import Glibc

/// The pid file (`server.pid_file`): created exclusively at start, refused while the pid it names is alive,
/// removed at exit only if it still names this process. `postern reload` reads it to find the server.
public struct PidFile: Sendable {
    public let path: String
    public let pid: Int32

    private init(path: String, pid: Int32) {
        self.path = path
        self.pid = pid
    }

    /// Writes `pid` and a newline to `path`. The content goes to a temporary file next to it first, which
    /// is then hard-linked into place: `link(2)` fails if `path` exists, like `O_EXCL`, and the file is never
    /// seen half-written. An existing file that names a live process other than `pid` is refused
    /// (`alreadyRunning`); one naming a dead process or this process, or not holding a pid, is stale and
    /// replaced; one that cannot be read (e.g. `EACCES`) is left alone (`cannotCreate`).
    public static func create(path: String, pid: Int32 = getpid()) throws(PidFileError) -> PidFile {
        let temporary = "\(path).\(pid).tmp"
        try writeTemporary(temporary, pid: pid)
        defer { unlink(temporary) }
        for _ in 0..<3 {
            if link(temporary, path) == 0 { return PidFile(path: path, pid: pid) }
            let error = errno
            guard error == EEXIST else { throw .cannotCreate(path: path, errno: error) }
            switch readExisting(path) {
            case .success(let other) where other != pid && isAlive(other):
                throw .alreadyRunning(path: path, pid: other)
            case .success, .failure(.invalidContent):
                break  // a dead process, this one, or not a pid: stale, replaced below
            case .failure(.cannotRead(_, let code)) where code == ENOENT:
                continue  // removed meanwhile: link again
            case .failure(.cannotRead(_, let code)):
                throw .cannotCreate(path: path, errno: code)  // cannot tell whether it is stale: leave it
            case .failure(let error):
                throw error
            }
            guard unlink(path) == 0 || errno == ENOENT else { throw .cannotCreate(path: path, errno: errno) }
        }
        throw .cannotCreate(path: path, errno: EEXIST)
    }

    /// Removes the file if it still names this process; false when it names another one or is gone.
    @discardableResult
    public func remove() throws(PidFileError) -> Bool {
        guard let named = try? Self.readPID(path: path), named == pid else { return false }
        guard unlink(path) == 0 else {
            if errno == ENOENT { return false }
            throw .cannotRemove(path: path, errno: errno)
        }
        return true
    }

    /// The pid a pid file names (decimal digits and an optional newline, at most 32 bytes).
    public static func readPID(path: String) throws(PidFileError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw .cannotRead(path: path, errno: errno) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 33)
        var count = 0
        repeat {
            count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        } while count < 0 && errno == EINTR
        guard count >= 0 else { throw .cannotRead(path: path, errno: errno) }
        var digits = buffer[0..<count]
        if digits.last == 0x0A { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ (0x30...0x39).contains($0) }),
            let pid = Int32(String(decoding: digits, as: UTF8.self)), pid > 0
        else { throw .invalidContent(path: path) }
        return pid
    }

    private static func readExisting(_ path: String) -> Result<Int32, PidFileError> {
        Result { () throws(PidFileError) in try readPID(path: path) }
    }

    /// Whether a process with this pid exists (`kill(pid, 0)` succeeds or fails with `EPERM`).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    private static func writeTemporary(_ temporary: String, pid: Int32) throws(PidFileError) {
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw .cannotCreate(path: temporary, errno: errno) }
        defer { close(fd) }
        let content = Array("\(pid)\n".utf8)
        let written = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == content.count else {
            let error = written < 0 ? errno : EIO
            unlink(temporary)
            throw .cannotCreate(path: temporary, errno: error)
        }
    }
}
