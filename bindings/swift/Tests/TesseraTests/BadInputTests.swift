// Bad input through the Swift bindings: each gives the exact typed error, never a
// crash, and changes nothing.

import Foundation
import Tessera
import Testing

extension FFI {
    @Suite("Bad input")
    struct BadInput {
        let folder: TemporaryDirectory
        let client: TesseraClient
        let lock: Lock

        init() throws {
            folder = try TemporaryDirectory()
            client = try makeClient(in: folder)
            lock = try berlinLock(client)
        }

        func window(_ label: String = "Visitor") throws -> AccessCode {
            try client.createCode(
                lockId: lock.id,
                request: CodeRequest(
                    label: label, schedule: .window(start: wall(2031, 5, 5, 8), end: wall(2031, 5, 5, 12)),
                    pin: .generate(length: nil)))
        }

        @Test("malformed UUIDs are refused by Foundation; unknown ones are NotFound")
        func ids() throws {
            defer { folder.remove() }
            // Ids are Foundation UUIDs: a malformed string never becomes one, so it
            // cannot reach Rust at all.
            #expect(UUID(uuidString: "not-a-uuid") == nil)
            #expect(UUID(uuidString: "") == nil)
            #expect(UUID(uuidString: "123e4567-e89b-12d3-a456-42661417400") == nil)  // a digit short
            #expect(UUID(uuidString: "123e4567-e89b-12d3-a456-42661417400g") == nil)

            let code = try window()
            // Swift writes UUIDs in upper case; Rust reads either.
            #expect(try client.lock(id: UUID(uuidString: lock.id.uuidString.lowercased())!) == lock)
            #expect(try client.code(id: code.id) == code)

            let unknown = UUID()
            let noCode = TesseraError.NotFound(what: "code", id: unknown.uuidString.lowercased())
            let noLock = TesseraError.NotFound(what: "lock", id: unknown.uuidString.lowercased())
            #expect(throws: noCode) { try client.code(id: unknown) }
            #expect(throws: noCode) { try client.revealPin(id: unknown) }
            #expect(throws: noCode) { try client.revokeCode(id: unknown) }
            #expect(throws: noCode) { try client.updateCode(id: unknown, changes: CodeChanges(label: "New")) }
            #expect(throws: noCode) { try client.codeWindow(id: unknown, from: Date(), viewerZone: nil) }
            #expect(throws: noLock) { try client.lock(id: unknown) }
            #expect(throws: noLock) { try client.codes(lockId: unknown) }
            #expect(throws: noLock) { try client.renameLock(id: unknown, name: "Back door") }
            #expect(throws: noLock) { try client.observeCodes(lockId: unknown, listener: CodesRecorder()) }
            #expect(throws: noLock) {
                try client.previewSchedule(lockId: unknown, schedule: .permanent, allowWidening: false, viewerZone: nil)
            }
            #expect(throws: noLock) {
                try client.createCode(
                    lockId: unknown, request: CodeRequest(label: "X", schedule: .permanent, pin: .generate(length: nil)))
            }
            #expect(try client.codes(lockId: lock.id) == [code])
        }

        @Test("instants outside the years 1970-9999 are InvalidInput(instant)")
        func instants() throws {
            defer { folder.remove() }
            let code = try window()
            let outside = TesseraError.InvalidInput(field: "instant", reason: "outside the years 1970-9999")
            let outOfRange: [(String, Date)] = [
                ("1900-01-01", Date(timeIntervalSince1970: -2_208_988_800)),
                // (Not -0.5 s: uniffi's Swift Timestamp writer keeps the sign on the whole
                // seconds, so instants in (-1 s, 0) reach Rust as positive ones.)
                ("a second before 1970", Date(timeIntervalSince1970: -1)),
                ("Date.distantPast (year 1)", .distantPast),
                ("10000-01-01", Date(timeIntervalSince1970: 253_402_300_800)),
            ]
            for (name, instant) in outOfRange {
                #expect(throws: outside, "\(name)") {
                    try client.codeWindow(id: code.id, from: instant, viewerZone: nil)
                }
            }
            // The edges of the range, and Date.distantFuture (4001-01-01), are instants
            // Tessera accepts: from there on, the window has no occurrences left.
            let fromEpoch = try client.codeWindow(id: code.id, from: Date(timeIntervalSince1970: 0), viewerZone: nil)
            #expect(fromEpoch.occurrences.map(\.start.instant) == [utc(2031, 5, 5, 6)])
            let lastSecond = Date(timeIntervalSince1970: 253_402_300_799)  // 9999-12-31 23:59:59
            #expect(try client.codeWindow(id: code.id, from: lastSecond, viewerZone: nil).occurrences == [])
            let far = try client.codeWindow(id: code.id, from: .distantFuture, viewerZone: nil)
            #expect(far.occurrences == [])
            #expect(!far.more)
        }

        @Test("impossible wall-clock dates and times are InvalidInput; years out of range InvalidSchedule")
        func wallClock() throws {
            defer { folder.remove() }
            let cases: [(Schedule, TesseraError)] = [
                (
                    .window(start: wall(2031, 13, 1, 9), end: wall(2032, 1, 1, 9)),
                    .InvalidInput(field: "date", reason: "2031-13-1 is not a date")
                ),
                (
                    .oneTime(start: wall(2031, 2, 29, 9), end: wall(2031, 3, 1, 9)),
                    .InvalidInput(field: "date", reason: "2031-2-29 is not a date")
                ),
                (
                    .window(start: wall(2031, 5, 5, 24), end: wall(2031, 5, 6, 9)),
                    .InvalidInput(field: "time", reason: "24:0 is not a time of day")
                ),
                (
                    .expiringAfterFirstUse(minutes: 60, start: wall(2031, 5, 5, 9, 60), end: wall(2031, 5, 6, 9)),
                    .InvalidInput(field: "time", reason: "9:60 is not a time of day")
                ),
                (
                    .weekly(
                        days: [.monday], startTime: LocalTime(hour: 25, minute: 0), endTime: LocalTime(hour: 6, minute: 0),
                        firstDate: LocalDate(year: 2031, month: 1, day: 1), lastDate: LocalDate(year: 2031, month: 2, day: 1)),
                    .InvalidInput(field: "time", reason: "25:0 is not a time of day")
                ),
                (
                    .weekly(
                        days: [.monday], startTime: LocalTime(hour: 8, minute: 0), endTime: LocalTime(hour: 9, minute: 0),
                        firstDate: LocalDate(year: 2031, month: 0, day: 1), lastDate: LocalDate(year: 2031, month: 2, day: 1)),
                    .InvalidInput(field: "date", reason: "2031-0-1 is not a date")
                ),
                (
                    .window(start: wall(1900, 1, 1, 9), end: wall(2031, 1, 1, 9)),
                    .InvalidSchedule(reason: "1900-01-01 is outside the years 1970-9999")
                ),
            ]
            for (schedule, expected) in cases {
                #expect(throws: expected, "\(schedule)") {
                    try client.previewSchedule(lockId: lock.id, schedule: schedule, allowWidening: false, viewerZone: nil)
                }
                #expect(throws: expected, "\(schedule)") {
                    try client.createCode(
                        lockId: lock.id, request: CodeRequest(label: "X", schedule: schedule, pin: .generate(length: nil)))
                }
            }
            #expect(try client.codes(lockId: lock.id) == [])
        }

        @Test("empty and very large strings")
        func strings() throws {
            defer { folder.remove() }
            let megabyte = String(repeating: "x", count: 1 << 20)
            let megabyteOfDigits = String(repeating: "7", count: 1 << 20)

            for dataDir in ["", "   "] {
                #expect(throws: TesseraError.InvalidInput(field: "data_dir", reason: "must not be empty")) {
                    try TesseraClient(
                        config: ClientConfig(dataDir: dataDir, extraRootCertificates: []),
                        secureStore: MemorySecureStore(), logger: nil)
                }
            }

            let capabilities = defaultLockCapabilities()
            #expect(throws: TesseraError.InvalidInput(field: "lock name", reason: "must not be empty")) {
                try client.addLock(lock: NewLock(name: "", timeZone: "Europe/Berlin", capabilities: capabilities))
            }
            #expect(throws: TesseraError.InvalidInput(field: "lock name", reason: "longer than 80 characters")) {
                try client.addLock(lock: NewLock(name: megabyte, timeZone: "Europe/Berlin", capabilities: capabilities))
            }
            #expect(throws: TesseraError.InvalidInput(field: "lock name", reason: "longer than 80 characters")) {
                try client.renameLock(id: lock.id, name: megabyte)
            }
            #expect(throws: TesseraError.UnknownTimeZone(zone: "")) {
                try client.addLock(lock: NewLock(name: "Gate", timeZone: "", capabilities: capabilities))
            }
            // Errors quote at most 40 characters of what they refuse.
            #expect(throws: TesseraError.UnknownTimeZone(zone: String(megabyte.prefix(40)) + "…")) {
                try client.addLock(lock: NewLock(name: "Gate", timeZone: megabyte, capabilities: capabilities))
            }

            func request(label: String = "Visitor", pin: PinChoice = .generate(length: nil)) -> CodeRequest {
                CodeRequest(label: label, schedule: .permanent, pin: pin)
            }
            #expect(throws: TesseraError.InvalidInput(field: "label", reason: "must not be empty")) {
                try client.createCode(lockId: lock.id, request: request(label: ""))
            }
            #expect(throws: TesseraError.InvalidInput(field: "label", reason: "longer than 80 characters")) {
                try client.createCode(lockId: lock.id, request: request(label: megabyte))
            }
            #expect(throws: TesseraError.InvalidPin(reason: "it is empty")) {
                try client.createCode(lockId: lock.id, request: request(pin: .chosen(digits: "")))
            }
            #expect(throws: TesseraError.InvalidPin(reason: "it is longer than 12 digits")) {
                try client.createCode(lockId: lock.id, request: request(pin: .chosen(digits: megabyteOfDigits)))
            }
            #expect(throws: TesseraError.InvalidPin(reason: "it must contain digits only")) {
                try client.createCode(lockId: lock.id, request: request(pin: .chosen(digits: megabyte)))
            }

            let code = try client.createCode(lockId: lock.id, request: request())
            #expect(throws: TesseraError.InvalidInput(field: "label", reason: "longer than 80 characters")) {
                try client.updateCode(id: code.id, changes: CodeChanges(label: megabyte))
            }
            for (zone, quoted) in [("", ""), (megabyte, String(megabyte.prefix(40)) + "…")] {
                #expect(throws: TesseraError.UnknownTimeZone(zone: quoted)) {
                    try client.codeWindow(id: code.id, from: Date(), viewerZone: zone)
                }
                #expect(throws: TesseraError.UnknownTimeZone(zone: quoted)) {
                    try client.previewSchedule(lockId: lock.id, schedule: .permanent, allowWidening: false, viewerZone: zone)
                }
            }
            // Nothing changed.
            #expect(try client.locks() == [lock])
            #expect(try client.codes(lockId: lock.id) == [code])
        }

        @Test("empty and very large account strings, against a real cloud")
        func accountStrings() async throws {
            defer { folder.remove() }
            let cloud = try await Cloud.start(in: folder.url)
            defer { cloud.stop() }
            let megabyte = String(repeating: "x", count: 1 << 20)
            await #expect(
                throws: TesseraError.InvalidInput(
                    field: "config", reason: #""" is not a cloud address: relative URL without a base"#)
            ) {
                try await client.signUp(cloudUrl: "", email: uniqueEmail(), password: password, deviceName: nil)
            }
            await #expect(
                throws: TesseraError.CloudRejected(code: "invalid_input", reason: "not a valid email address")
            ) {
                try await client.signUp(cloudUrl: cloud.url, email: "", password: password, deviceName: nil)
            }
            await #expect(
                throws: TesseraError.CloudRejected(
                    code: "invalid_input", reason: "a password has 10 to 1024 characters")
            ) {
                try await client.signUp(cloudUrl: cloud.url, email: uniqueEmail(), password: "", deviceName: nil)
            }
            // A megabyte is refused before anyone reads it.
            let tooLarge = TesseraError.CloudRejected(
                code: "payload_too_large", reason: "the body is larger than 65536 bytes")
            await #expect(throws: tooLarge) {
                try await client.signUp(cloudUrl: cloud.url, email: megabyte, password: password, deviceName: nil)
            }
            await #expect(throws: tooLarge) {
                try await client.logIn(cloudUrl: cloud.url, email: uniqueEmail(), password: megabyte, deviceName: nil)
            }
            await #expect(throws: tooLarge) {
                try await client.signUp(
                    cloudUrl: cloud.url, email: uniqueEmail(), password: password, deviceName: megabyte)
            }
            await #expect(throws: TesseraError.InvalidCredentials) {
                try await client.logIn(cloudUrl: cloud.url, email: uniqueEmail(), password: "", deviceName: nil)
            }
            #expect(client.account() == nil)
            #expect(client.syncStatus().activity == .signedOut)
        }
    }
}
