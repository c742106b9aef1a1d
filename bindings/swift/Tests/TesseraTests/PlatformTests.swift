// The parts a Swift app implements, misbehaving: a secure store, a listener and a
// logger that throw. Each gives a typed error or is shrugged off; none crashes.
// And listener handles: cancel() and dropping the handle stop the calls.

import Foundation
import Tessera
import Testing

/// A keychain that cannot be read: throws an error that is none of the bindings' types.
final class LockedKeychain: SecureStore {
    func get(key: String) throws -> Data? { throw PlatformFailure(description: "the keychain is locked") }
    func put(key: String, value: Data) throws {}
    func delete(key: String) throws {}
}

/// A keychain that takes nothing: throws the bindings' own `SecureStoreError`.
final class FullKeychain: SecureStore {
    let attempts = Recorder<String>()

    func get(key: String) throws -> Data? { nil }
    func put(key: String, value: Data) throws {
        attempts.record(key)
        throw SecureStoreError.Failed(reason: "the keychain is full")
    }
    func delete(key: String) throws {}
}

/// A keychain that works until the session is saved.
final class NoRoomForTheSession: SecureStore {
    let memory = MemorySecureStore()

    func get(key: String) throws -> Data? { try memory.get(key: key) }
    func put(key: String, value: Data) throws {
        guard key != "tessera.session" else { throw SecureStoreError.Failed(reason: "no room for the session") }
        try memory.put(key: key, value: value)
    }
    func delete(key: String) throws { try memory.delete(key: key) }
}

/// A screen that fails every time it is told about codes (how many it was shown each time).
final class ThrowingCodesListener: CodesListener {
    let calls = Recorder<Int>()
    let plainSwiftError: Bool

    init(plainSwiftError: Bool) {
        self.plainSwiftError = plainSwiftError
    }

    func onCodes(codes: [AccessCode]) throws {
        calls.record(codes.count)
        if plainSwiftError {
            throw PlatformFailure(description: "the screen is gone")
        }
        throw ListenerError.Failed(reason: "the screen is gone")
    }
}

final class ThrowingSyncStatusListener: SyncStatusListener {
    let calls = Recorder<UInt32>()

    func onSyncStatus(status: SyncStatus) throws {
        calls.record(status.pending)
        throw PlatformFailure(description: "the indicator is gone")
    }
}

/// A log that throws every record back.
final class ThrowingLogger: Logger {
    let records = Recorder<LogRecord>()

    func log(record: LogRecord) throws {
        records.record(record)
        throw PlatformFailure(description: "the log is full")
    }
}

extension FFI {
    @Suite("Platform parts that fail, and listener handles")
    struct Platform {
        @Test("a SecureStore whose get throws a plain Swift error: SecureStore from the initializer")
        func secureStoreGetThrows() throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            #expect(throws: TesseraError.SecureStore(reason: "the keychain is locked")) {
                try makeClient(in: folder, store: LockedKeychain())
            }
        }

        @Test("a SecureStore whose put throws SecureStoreError.Failed: SecureStore from the initializer")
        func secureStorePutThrows() throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let keychain = FullKeychain()
            #expect(throws: TesseraError.SecureStore(reason: "the keychain is full")) {
                try makeClient(in: folder, store: keychain)
            }
            #expect(keychain.attempts.all == ["tessera.store-key"])
            // The key never made it to the keychain, so the store it would open is not kept either:
            // with a working keychain the same folder opens.
            let client = try makeClient(in: folder, store: MemorySecureStore())
            #expect(try client.locks() == [])
        }

        @Test("a SecureStore that cannot keep the session: signUp throws SecureStore, still signed out")
        func sessionCannotBeSaved() async throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let cloud = try await Cloud.start(in: folder.url)
            defer { cloud.stop() }
            let keychain = NoRoomForTheSession()
            let client = try makeClient(in: folder, store: keychain)
            await #expect(throws: TesseraError.SecureStore(reason: "no room for the session")) {
                try await client.signUp(cloudUrl: cloud.url, email: uniqueEmail(), password: password, deviceName: nil)
            }
            #expect(client.account() == nil)
            #expect(keychain.memory.keys == ["tessera.store-key"])
            await #expect(throws: TesseraError.SignedOut) { try await client.sync() }
        }

        @Test("listeners that throw every call: the client keeps working and keeps calling", arguments: [false, true])
        func throwingListeners(plainSwiftError: Bool) async throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let client = try makeClient(in: folder)
            let lock = try berlinLock(client)
            let failing = ThrowingCodesListener(plainSwiftError: plainSwiftError)
            let failingStatus = ThrowingSyncStatusListener()
            let working = CodesRecorder()
            let handles = [
                try client.observeCodes(lockId: lock.id, listener: failing),
                try client.observeSyncStatus(listener: failingStatus),
                try client.observeCodes(lockId: lock.id, listener: working),
            ]
            try await failing.calls.wait(for: "the first call") { $0 == [0] }
            try await failingStatus.calls.wait(for: "the first status") { $0 == [1] }
            for expected in 1...3 {
                let code = try client.createCode(
                    lockId: lock.id,
                    request: CodeRequest(label: "Guest \(expected)", schedule: .permanent, pin: .generate(length: nil)))
                #expect(try client.code(id: code.id) == code)
                try await failing.calls.wait(for: "call with \(expected) codes") { $0.last == expected }
                try await failingStatus.calls.wait(for: "status with \(expected + 1) pending") {
                    $0.last == UInt32(expected + 1)
                }
                try await working.calls.wait(for: "\(expected) codes") { $0.last?.count == expected }
            }
            #expect(try client.codes(lockId: lock.id).count == 3)
            for handle in handles { handle.cancel() }
        }

        @Test("a Logger that throws: ignored, the client keeps working and logging")
        func throwingLogger() async throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let logger = ThrowingLogger()
            let client = try makeClient(in: folder, logger: logger)
            let lock = try berlinLock(client)
            // A failing listener is logged as a warning: each one reaches the throwing logger.
            let failing = ThrowingCodesListener(plainSwiftError: false)
            let handle = try client.observeCodes(lockId: lock.id, listener: failing)
            let warnings = { (records: [LogRecord]) in
                records.filter { $0.message.contains("a codes listener failed") }
            }
            try await logger.records.wait(for: "the first warning") { warnings($0).count == 1 }
            let warning = try #require(warnings(logger.records.all).first)
            #expect(warning.level == .warn)
            #expect(warning.target == "tessera_ffi::client")
            #expect(warning.message.contains("the screen is gone"))
            _ = try client.createCode(
                lockId: lock.id, request: CodeRequest(label: "Guest", schedule: .permanent, pin: .generate(length: nil)))
            try await logger.records.wait(for: "the second warning") { warnings($0).count == 2 }
            #expect(try client.codes(lockId: lock.id).count == 1)
            handle.cancel()
        }

        @Test("ListenerHandle: cancel() and dropping the handle stop the calls")
        func handles() async throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let client = try makeClient(in: folder)
            let lock = try berlinLock(client)
            let cancelled = CodesRecorder()
            let dropped = CodesRecorder()
            let kept = CodesRecorder()
            let cancelledHandle = try client.observeCodes(lockId: lock.id, listener: cancelled)
            var droppedHandle: ListenerHandle? = try client.observeCodes(lockId: lock.id, listener: dropped)
            let keptHandle = try client.observeCodes(lockId: lock.id, listener: kept)
            for recorder in [cancelled, dropped, kept] {
                try await recorder.calls.wait(for: "the current list") { $0 == [[]] }
            }
            #expect(!cancelledHandle.isCancelled())
            #expect(droppedHandle?.isCancelled() == false)

            cancelledHandle.cancel()
            #expect(cancelledHandle.isCancelled())
            cancelledHandle.cancel()  // twice is harmless
            droppedHandle = nil

            for count in 1...2 {
                _ = try client.createCode(
                    lockId: lock.id,
                    request: CodeRequest(label: "Guest \(count)", schedule: .permanent, pin: .generate(length: nil)))
                try await kept.calls.wait(for: "\(count) codes") { $0.last?.count == count }
            }
            // The kept listener heard both changes; the others nothing after their first call.
            #expect(cancelled.calls.count == 1)
            #expect(dropped.calls.count == 1)
            #expect(!keptHandle.isCancelled())
            keptHandle.cancel()
        }
    }
}
