// Locally connected locks through the Swift bindings, against real tessera-lock
// processes: pairing (and a wrong setup code), a window code delivered over the local
// route that opens the lock's keypad, an offline code that opens it with no network,
// and a BleTransport written in Swift carrying the protocol end to end.

import Foundation
import Tessera
import Testing

extension FFI {
    @Suite("Local locks")
    struct LocalLocks {
        /// A window code open from the last full hour (Berlin time) for four hours.
        func windowNow(_ client: TesseraClient, lockId: UUID, label: String) throws -> AccessCode {
            var berlin = Calendar(identifier: .gregorian)
            berlin.timeZone = try #require(TimeZone(identifier: "Europe/Berlin"))
            let hour = try #require(berlin.dateInterval(of: .hour, for: Date())).start
            let start = try #require(berlin.date(byAdding: .hour, value: -1, to: hour))
            let end = try #require(berlin.date(byAdding: .hour, value: 4, to: start))
            func wallTime(_ date: Date) -> LocalDateTime {
                let parts = berlin.dateComponents([.year, .month, .day, .hour], from: date)
                return wall(Int32(parts.year!), UInt8(parts.month!), UInt8(parts.day!), UInt8(parts.hour!))
            }
            return try client.createCode(
                lockId: lockId,
                request: CodeRequest(
                    label: label, schedule: .window(start: wallTime(start), end: wallTime(end)),
                    pin: .generate(length: nil)))
        }

        @Test("pair, deliver a window code and an offline code: both open the keypad")
        func pairDeliverAndKeypad() async throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let lock = try await LockProcess.start(in: folder.url, name: "Front door")
            defer { lock.stop() }
            let client = try makeClient(in: folder, "phone")

            let refused = try await tesseraError {
                try await client.pairLock(address: lock.address, setupCode: "87654321")
            }
            #expect(refused == .PairingRefused)
            #expect(try client.locks().isEmpty)
            let empty = try await tesseraError { try await client.pairLock(address: lock.address, setupCode: "") }
            #expect(empty == .InvalidInput(field: "setup_code", reason: "must not be empty"))

            let paired = try await client.pairLock(address: lock.address, setupCode: setupCode)
            #expect(paired.added && paired.offlineCodes)
            #expect(paired.lock.name == "Front door" && paired.lock.timeZone == "Europe/Berlin")
            #expect(paired.info.lockId == paired.lock.id)
            #expect(try client.localRoute(lockId: paired.lock.id)?.address == lock.address)

            let code = try windowNow(client, lockId: paired.lock.id, label: "Anna")
            let pin = try client.revealPin(id: code.id)
            let delivery = try await client.deliver(lockId: paired.lock.id)
            #expect(delivery.route == .local)
            #expect(delivery.local?.set == 1)
            guard case .setOnLock = try client.code(id: code.id).sync else {
                throw Failure("the code is not set on the lock", at: #_sourceLocation)
            }
            #expect(try lock.keypad(pin) == "open")

            let offline = try client.issueOfflineCode(
                lockId: paired.lock.id, request: OfflineCodeRequest(offlineClass: .hours4, label: "Courier"))
            let digits = offline.pin.digits()
            #expect(digits.count == Int(offline.pinLength) && offline.pinLength == paired.info.offlineDigits)
            #expect(offline.start <= Date() && Date() < offline.end)
            #expect(offline.firstUseBy > offline.start)
            #expect(!String(describing: offline).contains(digits))
            #expect(try lock.keypad(digits) == "open")

            let epoch = try await client.rotateOfflineEpoch(lockId: paired.lock.id)
            #expect(epoch == paired.info.epoch + 1)
            #expect(try lock.keypad(digits) == "refused")
            #expect(try client.offlineCodes(lockId: paired.lock.id).map { $0.revoked } == [true])

            let events = try await client.readLockEvents(lockId: paired.lock.id).map { $0.activity }
            #expect(events.contains(.pairingFailed))
            #expect(events.contains(.codeUsed(codeId: code.id)))
            #expect(events.contains { activity in
                if case .offlineCodeUsed(_, .hours4, _) = activity { return true }
                return false
            })
        }

        @Test("a BleTransport written in Swift carries pairing and codes")
        func swiftBluetooth() async throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let lock = try await LockProcess.start(in: folder.url, name: "Back door")
            defer { lock.stop() }
            let client = try makeClient(in: folder, "phone")
            let device = "AA:BB:CC:00:00:01"

            let none = try await tesseraError { try await client.pairLockBle(deviceId: device, setupCode: setupCode) }
            guard case .Bluetooth = none else {
                throw Failure("expected Bluetooth, got \(none)", at: #_sourceLocation)
            }
            let ble = TcpBleTransport(devices: [device: lock.address], mtu: 20)
            client.setBleTransport(transport: ble)

            let found = try await client.discoverLocks(
                options: DiscoveryOptions(timeoutMs: 300, mdns: false, bluetooth: true))
            #expect(found.locks.count == 1)
            #expect(found.locks.first?.routes == [.bluetooth(deviceId: device)])
            #expect(found.locks.first?.lockId == nil)

            let paired = try await client.pairLockBle(deviceId: device, setupCode: setupCode)
            #expect(paired.lock.name == "Back door")
            let route = try client.localRoute(lockId: paired.lock.id)
            #expect(route?.bleDevice == device && route?.address == nil)
            #expect(ble.writes.count > 1 && ble.writes.allSatisfy { $0 <= 20 })

            let code = try windowNow(client, lockId: paired.lock.id, label: "Bluetooth guest")
            let delivery = try await client.deliver(lockId: paired.lock.id)
            #expect(delivery.route == .local)
            #expect(try lock.keypad(client.revealPin(id: code.id)) == "open")
            #expect(ble.count("connect") == ble.count("disconnect"))

            let offline = try client.issueOfflineCode(
                lockId: paired.lock.id, request: OfflineCodeRequest(offlineClass: .hours2, label: "Courier"))
            #expect(try lock.keypad(offline.pin.digits()) == "open")
            client.setBleTransport(transport: nil)
        }
    }
}
