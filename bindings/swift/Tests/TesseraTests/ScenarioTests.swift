// The scenario every binding runs: a real tessera-cloud, an owner on two devices,
// codes of every kind seen through a listener, the cloud taken away and brought
// back, a revocation, and the errors a UI shows, as native Swift errors.

import Foundation
import Tessera
import Testing

extension FFI {
    @Suite("Scenario")
    struct Scenario {
        /// The lock's schedules, one of every kind, in Berlin wall-clock time.
        static let schedules: [(label: String, schedule: Schedule)] = [
            ("Family", .permanent),
            // 02:30 on 2031-03-30 does not exist in Berlin (02:00 CET becomes 03:00 CEST).
            ("Cleaner", .window(start: wall(2031, 3, 30, 2, 30), end: wall(2031, 3, 30, 12))),
            ("Plumber", .oneTime(start: wall(2031, 6, 1, 10), end: wall(2031, 6, 1, 18))),
            // Friday and Saturday nights, 22:00 to 06:00 the next morning.
            (
                "Night nurse",
                .weekly(
                    days: [.friday, .saturday],
                    startTime: LocalTime(hour: 22, minute: 0),
                    endTime: LocalTime(hour: 6, minute: 0),
                    firstDate: LocalDate(year: 2031, month: 3, day: 28),
                    lastDate: LocalDate(year: 2031, month: 4, day: 5))
            ),
            ("Guest", .expiringAfterFirstUse(minutes: 90, start: wall(2031, 7, 1, 9), end: wall(2031, 7, 1, 17))),
        ]

        @Test("sign up and log in, codes of every kind, live lists, offline and back, revoke, errors")
        func ownerOnTwoDevices() async throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let cloud = try await Cloud.start(in: folder.url)
            defer { cloud.stop() }

            // MARK: Sign up on the phone; the session goes to the platform's secure store.
            let phoneStore = MemorySecureStore()
            let phone = try makeClient(in: folder, "phone", store: phoneStore)
            #expect(phone.account() == nil)
            #expect(phone.syncStatus() == SyncStatus(activity: .signedOut, pending: 0, lastSuccess: nil))
            let email = uniqueEmail()
            let account = try await phone.signUp(
                cloudUrl: cloud.url, email: email, password: password, deviceName: "Swift phone")
            #expect(account.email == email)
            #expect(phone.account() == account)
            #expect(phone.syncStatus().activity == .idle)
            #expect(phoneStore.keys == ["tessera.session", "tessera.store-key"])

            let lock = try berlinLock(phone)
            #expect(lock.name == "Front door")
            #expect(lock.timeZone == "Europe/Berlin")
            #expect(lock.capabilities == defaultLockCapabilities())
            #expect(try phone.locks() == [lock])
            #expect(try phone.lock(id: lock.id) == lock)

            // MARK: Live data: the current value at once, then every change.
            let list = CodesRecorder()
            let listHandle = try phone.observeCodes(lockId: lock.id, listener: list)
            try await list.calls.wait(for: "the current list") { !$0.isEmpty }
            #expect(list.calls.all.first == [])
            let syncStates = SyncStatusRecorder()
            let syncHandle = try phone.observeSyncStatus(listener: syncStates)
            try await syncStates.calls.wait(for: "the current sync status") { !$0.isEmpty }
            #expect(syncStates.calls.all.first == SyncStatus(activity: .idle, pending: 1, lastSuccess: nil))

            // MARK: A code of every kind, each one seen by the listener.
            var codes: [AccessCode] = []
            for (label, schedule) in Self.schedules {
                let code = try phone.createCode(
                    lockId: lock.id, request: CodeRequest(label: label, schedule: schedule, pin: .generate(length: nil)))
                #expect(code.label == label)
                #expect(code.schedule == schedule)
                #expect(code.lockId == lock.id)
                #expect(code.status == .active)
                #expect(code.sync == .pending)
                #expect(code.version == 1)
                #expect(code.maxUses == nil)
                let pin = try phone.revealPin(id: code.id)
                #expect(pin.count == Int(code.pinLength))
                #expect(pin.allSatisfy(\.isASCII) && pin.allSatisfy(\.isNumber))
                codes.append(code)
                let expected = codes
                try await list.calls.wait(for: "\(label) in the live list") { $0.last == expected }
            }
            #expect(try phone.codes(lockId: lock.id) == codes)
            #expect(phone.syncStatus().pending == 6)  // the lock and five codes
            try await syncStates.calls.wait(for: "6 pending") { $0.last?.pending == 6 }

            // MARK: The windows the lock will hold.
            let from = utc(2031, 1, 1)
            let windows = try codes.map { try phone.codeWindow(id: $0.id, from: from, viewerZone: nil) }
            #expect(windows.map(\.kind) == [.permanent, .window, .oneTime, .weekly, .expiringAfterFirstUse])
            #expect(windows.allSatisfy { $0.lockZone == "Europe/Berlin" && $0.viewerZone == nil })

            let permanent = windows[0]
            #expect(permanent.summary == "always, until revoked")
            #expect(permanent.occurrences == [])
            #expect(!permanent.more)

            // The DST case: 02:30 moves forward by the gap, to 03:30 CEST (01:30 UTC).
            let preview = try phone.previewSchedule(
                lockId: lock.id, schedule: Self.schedules[1].schedule, allowWidening: false,
                viewerZone: "America/New_York")
            #expect(preview.kind == .window)
            #expect(preview.viewerZone == "America/New_York")
            #expect(
                preview.adjustments == [
                    "start 2031-03-30 02:30 does not exist (clocks go forward); moved to 2031-03-30 03:30"
                ])
            #expect(
                preview.summary
                    == "from Sun 2031-03-30 03:30 CEST (UTC+02:00) until Sun 2031-03-30 12:00 CEST (UTC+02:00)")
            #expect(!preview.more)
            let dst = try #require(preview.occurrences.first)
            #expect(preview.occurrences.count == 1)
            #expect(dst.start.instant == utc(2031, 3, 30, 1, 30))
            #expect(
                dst.start.lock
                    == ZonedTime(
                        local: wall(2031, 3, 30, 3, 30), zone: "Europe/Berlin", utcOffsetSeconds: 7200,
                        abbreviation: "CEST"))
            #expect(
                dst.start.viewer
                    == ZonedTime(
                        local: wall(2031, 3, 29, 21, 30), zone: "America/New_York", utcOffsetSeconds: -14400,
                        abbreviation: "EDT"))
            #expect(dst.end.instant == utc(2031, 3, 30, 10))
            #expect(dst.end.lock.local == wall(2031, 3, 30, 12))
            // The code holds exactly what the preview showed.
            #expect(
                try phone.codeWindow(id: codes[1].id, from: from, viewerZone: "America/New_York") == preview)

            let oneTime = windows[2]
            #expect(
                oneTime.summary
                    == "one entry between Sun 2031-06-01 10:00 CEST (UTC+02:00) and Sun 2031-06-01 18:00 CEST (UTC+02:00)"
            )
            #expect(oneTime.occurrences.map { [$0.start.instant, $0.end.instant] } == [[utc(2031, 6, 1, 8), utc(2031, 6, 1, 16)]])

            // Overnight occurrences; the one on the night of the change lasts 7 hours.
            let weekly = windows[3]
            #expect(weekly.summary == "Fri, Sat 22:00-06:00 next day (Europe/Berlin), 2031-03-28 to 2031-04-05")
            #expect(
                weekly.occurrences.map { [$0.start.instant, $0.end.instant] } == [
                    [utc(2031, 3, 28, 21), utc(2031, 3, 29, 5)],  // Fri 22:00 CET - Sat 06:00 CET
                    [utc(2031, 3, 29, 21), utc(2031, 3, 30, 4)],  // Sat 22:00 CET - Sun 06:00 CEST
                    [utc(2031, 4, 4, 20), utc(2031, 4, 5, 4)],  // Fri 22:00 CEST - Sat 06:00 CEST
                    [utc(2031, 4, 5, 20), utc(2031, 4, 6, 4)],  // Sat 22:00 CEST - Sun 06:00 CEST
                ])
            #expect(weekly.occurrences[1].end.lock.local == wall(2031, 3, 30, 6))
            #expect(weekly.occurrences[1].end.lock.abbreviation == "CEST")
            #expect(!weekly.more)
            #expect(weekly.adjustments == [])

            let expiring = windows[4]
            #expect(expiring.firstUseMinutes == 90)
            #expect(
                expiring.summary
                    == "for 1 h 30 min after the first entry, which must be between Tue 2031-07-01 09:00 CEST (UTC+02:00) and Tue 2031-07-01 17:00 CEST (UTC+02:00)"
            )
            #expect(expiring.occurrences.map { [$0.start.instant, $0.end.instant] } == [[utc(2031, 7, 1, 7), utc(2031, 7, 1, 15)]])

            // MARK: Sync: everything reaches the cloud.
            let first = try await phone.sync()
            #expect(first.pushed == 6)
            #expect(first.refused == 0)
            let synced = phone.syncStatus()
            #expect(synced.activity == .idle)
            #expect(synced.pending == 0)
            let firstSuccess = try #require(synced.lastSuccess)
            try await list.calls.wait(for: "every code synced") {
                $0.last?.map(\.id) == codes.map(\.id) && $0.last?.allSatisfy { $0.sync == .synced } == true
            }
            try await syncStates.calls.wait(for: "idle, nothing pending") {
                $0.last?.activity == .idle && $0.last?.pending == 0
            }
            #expect(
                syncStates.calls.all.contains {
                    if case .syncing(stage: .pushing, _, total: 6) = $0.activity { true } else { false }
                })

            // MARK: A second device of the same account sees it all after sync().
            let tablet = try makeClient(in: folder, "tablet")
            #expect(
                try await tablet.logIn(cloudUrl: cloud.url, email: email, password: password, deviceName: "Swift tablet")
                    == account)
            #expect(try tablet.locks() == [])
            let pulled = try await tablet.sync()
            #expect(pulled.pushed == 0)
            #expect(try tablet.locks() == [lock])
            let onPhone = try phone.codes(lockId: lock.id)
            #expect(try tablet.codes(lockId: lock.id) == onPhone)
            for code in codes {
                #expect(try tablet.revealPin(id: code.id) == phone.revealPin(id: code.id))
            }

            // MARK: The cloud goes away; the phone keeps working and queues its changes.
            cloud.stop()
            let windowCleaner = try phone.createCode(
                lockId: lock.id,
                request: CodeRequest(
                    label: "Window cleaner", schedule: .window(start: wall(2031, 5, 5, 8), end: wall(2031, 5, 5, 12)),
                    pin: .chosen(digits: "730592")))
            #expect(try phone.revealPin(id: windowCleaner.id) == "730592")
            #expect(windowCleaner.pinLength == 6)
            #expect(phone.syncStatus().pending == 1)
            let dogSitter = try phone.createCode(
                lockId: lock.id,
                request: CodeRequest(label: "Dog sitter", schedule: .permanent, pin: .generate(length: 8), maxUses: 20))
            #expect(dogSitter.pinLength == 8)
            #expect(dogSitter.maxUses == 20)
            #expect(phone.syncStatus().pending == 2)
            let allIds = codes.map(\.id) + [windowCleaner.id, dogSitter.id]
            try await list.calls.wait(for: "the offline codes listed") { $0.last?.map(\.id) == allIds }

            let offline = try await tesseraError { try await phone.sync() }
            guard case .Offline(let reason) = offline else {
                Issue.record("expected TesseraError.Offline, got \(offline)")
                return
            }
            #expect(!reason.isEmpty)
            let waiting = phone.syncStatus()
            #expect(waiting.pending == 2)
            #expect(waiting.lastSuccess == firstSuccess)
            guard case .offline = waiting.activity else {
                Issue.record("expected an offline status, got \(waiting.activity)")
                return
            }
            try await syncStates.calls.wait(for: "offline with 2 pending") {
                guard let last = $0.last, case .offline = last.activity else { return false }
                return last.pending == 2
            }
            #expect(try phone.codes(lockId: lock.id).suffix(2).map(\.sync) == [.pending, .pending])

            // MARK: The cloud comes back (same port, same database); sync pushes the queue.
            try await cloud.start()
            let back = try await phone.sync()
            #expect(back.pushed == 2)
            #expect(back.refused == 0)
            let idle = phone.syncStatus()
            #expect(idle.activity == .idle)
            #expect(idle.pending == 0)
            #expect(try #require(idle.lastSuccess) > firstSuccess)
            try await syncStates.calls.wait(for: "idle again, nothing pending") {
                $0.last?.activity == .idle && $0.last?.pending == 0
            }

            // MARK: Revoke, once and again (the second changes nothing).
            let revoked = try phone.revokeCode(id: codes[2].id)
            #expect(revoked.status == .revoked)
            #expect(revoked.sync == .pending)
            #expect(revoked.id == codes[2].id)
            #expect(try phone.revokeCode(id: codes[2].id) == revoked)
            #expect(phone.syncStatus().pending == 1)
            try await list.calls.wait(for: "the revocation listed") {
                $0.last?.first { $0.id == revoked.id }?.status == .revoked
            }
            #expect(try await phone.sync().pushed == 1)
            #expect(phone.syncStatus().pending == 0)

            _ = try await tablet.sync()
            let tabletCodes = try tablet.codes(lockId: lock.id)
            #expect(tabletCodes.map(\.id) == allIds)
            #expect(tabletCodes.filter { $0.status == .revoked }.map(\.id) == [revoked.id])
            #expect(try tabletCodes == phone.codes(lockId: lock.id))

            // MARK: Errors a UI shows, as native Swift errors.
            let stranger = try makeClient(in: folder, "stranger")
            await #expect(throws: TesseraError.InvalidCredentials) {
                try await stranger.logIn(cloudUrl: cloud.url, email: email, password: "wrong password", deviceName: nil)
            }
            #expect(stranger.account() == nil)
            await #expect(throws: TesseraError.EmailTaken) {
                try await stranger.signUp(cloudUrl: cloud.url, email: email, password: password, deviceName: nil)
            }
            #expect(
                throws: TesseraError.WeakPin(rule: .sequence, reason: "the digits count up or down in sequence")
            ) {
                try phone.createCode(
                    lockId: lock.id, request: CodeRequest(label: "Weak", schedule: .permanent, pin: .chosen(digits: "1234")))
            }
            #expect(throws: TesseraError.InvalidSchedule(reason: "the window ends before it starts")) {
                try phone.createCode(
                    lockId: lock.id,
                    request: CodeRequest(
                        label: "Backwards", schedule: .window(start: wall(2031, 5, 5, 12), end: wall(2031, 5, 5, 8)),
                        pin: .generate(length: nil)))
            }
            // Refused codes were not made.
            #expect(try phone.codes(lockId: lock.id).map(\.id) == allIds)
            #expect(phone.syncStatus().pending == 0)

            listHandle.cancel()
            syncHandle.cancel()
            #expect(listHandle.isCancelled())
            #expect(syncHandle.isCancelled())
        }
    }
}
