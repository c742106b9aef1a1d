// The FFI benchmark, Swift side: `client.codes(lockId:)` for a lock with 1,000
// codes, after warm-up. Prints one line; compare it with the Rust baseline
// (bindings/ffi/examples/bench_list_codes.rs). Build with -c release:
//   scripts/test-swift --bench

import Foundation
import Tessera

/// The keychain stand-in: a dictionary behind a lock.
final class MemorySecureStore: SecureStore, @unchecked Sendable {
    // Every access holds `lock`.
    private let lock = NSLock()
    private var entries: [String: Data] = [:]

    func get(key: String) throws -> Data? {
        lock.withLock { entries[key] }
    }

    func put(key: String, value: Data) throws {
        lock.withLock { entries[key] = value }
    }

    func delete(key: String) throws {
        lock.withLock { entries[key] = nil }
    }
}

let codeCount = 1_000
let warmUp = 20
let samples = 100

let folder = FileManager.default.temporaryDirectory
    .appendingPathComponent("tessera-swift-bench-\(UUID().uuidString.lowercased())")
defer { try? FileManager.default.removeItem(at: folder) }

let client = try TesseraClient(
    config: ClientConfig(dataDir: folder.path, extraRootCertificates: []),
    secureStore: MemorySecureStore(), logger: nil)
var capabilities = defaultLockCapabilities()
capabilities.maxCodes = 2_000
let lock = try client.addLock(lock: NewLock(name: "Bench", timeZone: "Europe/Berlin", capabilities: capabilities))
for index in 0..<codeCount {
    _ = try client.createCode(
        lockId: lock.id,
        request: CodeRequest(label: "Code \(index)", schedule: .permanent, pin: .generate(length: 8)))
}

var listed = 0
for _ in 0..<warmUp {
    listed = try client.codes(lockId: lock.id).count
}
guard listed == codeCount else {
    fatalError("listed \(listed) codes, expected \(codeCount)")
}

let clock = ContinuousClock()
var millis: [Double] = []
millis.reserveCapacity(samples)
for _ in 0..<samples {
    var codes: [AccessCode] = []
    let elapsed = try clock.measure {
        codes = try client.codes(lockId: lock.id)
    }
    precondition(codes.count == codeCount)
    let (seconds, attoseconds) = elapsed.components
    millis.append(Double(seconds) * 1e3 + Double(attoseconds) / 1e15)
}
millis.sort()
let median = samples % 2 == 1 ? millis[samples / 2] : (millis[samples / 2 - 1] + millis[samples / 2]) / 2
print(String(format: "swift   list %d codes: median %.3f ms (n=%d)", codeCount, median, samples))
