// What the tests share: a parent suite that runs everything one test at a time (the
// core's logger is process-wide), the platform parts a Swift app writes (a secure
// store, listeners, a logger), a real tessera-cloud process, and small helpers.

import Foundation
import Tessera
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every suite lives in here: one test at a time, each with a time limit.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct FFI {}

// MARK: - Locking

/// A value behind a lock, for the classes the core calls from its own threads.
final class Locked<Value>: @unchecked Sendable {
    // Every access goes through `lock`, hence `@unchecked`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withLock { $0 } }
}

// MARK: - Platform parts

/// The app's keychain stand-in: a dictionary behind a lock.
final class MemorySecureStore: SecureStore {
    private let entries = Locked<[String: Data]>([:])

    func get(key: String) throws -> Data? {
        entries.withLock { $0[key] }
    }

    func put(key: String, value: Data) throws {
        entries.withLock { $0[key] = value }
    }

    func delete(key: String) throws {
        entries.withLock { $0[key] = nil }
    }

    var keys: [String] { entries.withLock { $0.keys.sorted() } }
}

/// Everything a listener was called with, and a way to wait for a call.
final class Recorder<Value: Sendable>: Sendable {
    private let calls = Locked<[Value]>([])

    func record(_ value: Value) {
        calls.withLock { $0.append(value) }
    }

    var all: [Value] { calls.current }
    var count: Int { calls.withLock { $0.count } }
    var last: Value? { calls.withLock { $0.last } }

    /// Waits (polling, up to `timeout`) until the calls so far satisfy `condition`.
    @discardableResult
    func wait(
        for what: String,
        timeout: Duration = .seconds(15),
        sourceLocation: SourceLocation = #_sourceLocation,
        until condition: ([Value]) -> Bool
    ) async throws -> [Value] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let calls = all
            if condition(calls) {
                return calls
            }
            if clock.now >= deadline {
                let last = calls.last.map { String(describing: $0) } ?? "none"
                throw Failure(
                    "timed out after \(timeout) waiting for \(what); \(calls.count) calls, the last: \(last)",
                    at: sourceLocation)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A codes list on screen.
final class CodesRecorder: CodesListener {
    let calls = Recorder<[AccessCode]>()

    func onCodes(codes: [AccessCode]) throws {
        calls.record(codes)
    }
}

/// A sync indicator on screen.
final class SyncStatusRecorder: SyncStatusListener {
    let calls = Recorder<SyncStatus>()

    func onSyncStatus(status: SyncStatus) throws {
        calls.record(status)
    }
}

/// The platform log: keeps every record.
final class CollectingLogger: Logger {
    let records = Recorder<LogRecord>()

    func log(record: LogRecord) throws {
        records.record(record)
    }
}

/// A Swift error that is none of the bindings' types.
struct PlatformFailure: Error, CustomStringConvertible {
    let description: String
}

// MARK: - A real tessera-cloud

/// A `tessera-cloud serve` process on a loopback port with its SQLite file in `dir`.
/// `stop()` kills it as a crash would; `start()` brings it back on the same port
/// with the same database.
final class Cloud {
    let dir: URL
    private(set) var port = 0
    private var process: Process?
    private var starts = 0

    var url: String { "http://127.0.0.1:\(port)" }
    var database: URL { dir.appendingPathComponent("cloud.db") }

    private init(dir: URL) {
        self.dir = dir
    }

    static func start(in dir: URL) async throws -> Cloud {
        let cloud = Cloud(dir: dir)
        try await cloud.start()
        return cloud
    }

    /// `TESSERA_CLOUD_BIN` (set by scripts/test-swift), else the debug build.
    static var binary: URL { builtBinary("TESSERA_CLOUD_BIN", "tessera-cloud") }

    func start() async throws {
        precondition(process == nil, "the cloud is running")
        starts += 1
        let line = try await startProcess(
            Self.binary, ["serve", "--bind", "127.0.0.1:\(port)", "--db", database.path],
            stdout: dir.appendingPathComponent("cloud-\(starts).out"),
            stderr: dir.appendingPathComponent("cloud-\(starts).err"),
            name: "tessera-cloud", started: { self.process = $0 }, stop: stop)
        // Its first line: `listening on http://127.0.0.1:PORT`.
        let prefix = "listening on http://"
        guard line.hasPrefix(prefix),
            let port = line.split(separator: ":").last.flatMap({ Int($0) })
        else {
            stop()
            throw PlatformFailure(description: "tessera-cloud printed \(line.debugDescription)")
        }
        if self.port != 0 && port != self.port {
            stop()
            throw PlatformFailure(description: "tessera-cloud came back on \(port), not \(self.port)")
        }
        self.port = port
    }

    /// Kills the process (SIGKILL: no goodbye to anyone) and waits for it.
    func stop() {
        guard let process else { return }
        self.process = nil
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    deinit {
        stop()
    }
}

// MARK: - Real processes

/// The binary in the environment `variable` (set by scripts/test-swift), else this
/// repository's debug build of `name`.
func builtBinary(_ variable: String, _ name: String) -> URL {
    if let path = ProcessInfo.processInfo.environment[variable] {
        return URL(fileURLWithPath: path)
    }
    let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    return repository.appendingPathComponent("target/debug/\(name)")
}

/// Runs `binary` with `arguments`, its output going to the files `stdout` and `stderr`
/// (it can never block on a full pipe), hands the process to `started`, and waits up
/// to 30 s for its first line, which it returns. If the process ends or the time runs
/// out first, calls `stop` and throws (with what `name` wrote to stderr).
func startProcess(
    _ binary: URL, _ arguments: [String], stdout: URL, stderr: URL, name: String,
    started: (Process) -> Void, stop: () -> Void
) async throws -> String {
    _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
    _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: stdout)
    process.standardError = try FileHandle(forWritingTo: stderr)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    started(process)
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(30)
    while true {
        let output = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
        if let newline = output.firstIndex(of: "\n") {
            return String(output[..<newline])
        }
        if !process.isRunning || clock.now >= deadline {
            let errors = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
            stop()
            throw PlatformFailure(description: "\(name) did not start: \(errors)")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

// MARK: - Helpers

/// A fresh folder; `remove()` it when done.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tessera-swift-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// A failed expectation that ends the test.
struct Failure: Error, CustomStringConvertible {
    let description: String

    init(_ message: String, at location: SourceLocation) {
        description = "\(location.fileName):\(location.line): \(message)"
    }
}

/// An account nobody else uses.
func uniqueEmail(_ who: String = "owner") -> String {
    "\(who)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
}

let password = "correct horse battery staple"

/// A client on its own data folder.
func makeClient(
    in folder: TemporaryDirectory,
    _ name: String = "client",
    store: SecureStore = MemorySecureStore(),
    logger: Logger? = nil
) throws -> TesseraClient {
    try TesseraClient(
        config: ClientConfig(dataDir: folder.path(name), extraRootCertificates: []),
        secureStore: store,
        logger: logger)
}

/// A lock in Berlin that takes every kind of code.
func berlinLock(_ client: TesseraClient, name: String = "Front door") throws -> Lock {
    try client.addLock(
        lock: NewLock(name: name, timeZone: "Europe/Berlin", capabilities: defaultLockCapabilities()))
}

/// An instant given in UTC.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(secondsFromGMT: 0)!
    return calendar.date(
        from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
}

/// A wall-clock time on the lock.
func wall(_ year: Int32, _ month: UInt8, _ day: UInt8, _ hour: UInt8, _ minute: UInt8 = 0) -> LocalDateTime {
    LocalDateTime(year: year, month: month, day: day, hour: hour, minute: minute)
}

/// The error `body` throws, which must be a `TesseraError`.
func tesseraError<T>(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> T
) throws -> TesseraError {
    do {
        let value = try body()
        throw Failure("expected a TesseraError, got \(value)", at: sourceLocation)
    } catch let error as TesseraError {
        return error
    } catch let failure as Failure {
        throw failure
    } catch {
        throw Failure("expected a TesseraError, got \(type(of: error)): \(error)", at: sourceLocation)
    }
}

/// The error `body` throws, which must be a `TesseraError`.
func tesseraError<T>(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async throws -> TesseraError {
    do {
        let value = try await body()
        throw Failure("expected a TesseraError, got \(value)", at: sourceLocation)
    } catch let error as TesseraError {
        return error
    } catch let failure as Failure {
        throw failure
    } catch {
        throw Failure("expected a TesseraError, got \(type(of: error)): \(error)", at: sourceLocation)
    }
}
