// Secrets stay where they belong: the platform's secure store. The log the core
// forwards to the platform never carries the password, a token or a PIN, and an
// AccessCode does not hold its digits at all.

import Foundation
import Tessera
import Testing

extension FFI {
    @Suite("Secrets")
    struct Secrets {
        @Test("Logger records never contain the password, a token or a revealed PIN")
        func logsHaveNoSecrets() async throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let cloud = try await Cloud.start(in: folder.url)
            defer { cloud.stop() }
            let logger = CollectingLogger()
            let store = MemorySecureStore()
            let client = try makeClient(in: folder, store: store, logger: logger)

            _ = try await client.signUp(cloudUrl: cloud.url, email: uniqueEmail(), password: password, deviceName: nil)
            let lock = try berlinLock(client)
            let chosen = try client.createCode(
                lockId: lock.id, request: CodeRequest(label: "Chosen", schedule: .permanent, pin: .chosen(digits: "730592")))
            let generated = try client.createCode(
                lockId: lock.id, request: CodeRequest(label: "Generated", schedule: .permanent, pin: .generate(length: 8)))
            let pins = try [chosen, generated].map { try client.revealPin(id: $0.id) }
            #expect(pins[0] == "730592")
            #expect(pins[1].count == 8)
            #expect(try await client.sync().pushed == 3)

            // The tokens, as the session in the secure store holds them.
            let session = try #require(try store.get(key: "tessera.session"))
            let sessionText = String(decoding: session, as: UTF8.self)
            let tokens = sessionText.matches(of: /ts[ar]_[A-Za-z0-9_\-]+/).map { String($0.output) }
            #expect(tokens.count >= 2)
            #expect(tokens.contains { $0.hasPrefix("tsa_") } && tokens.contains { $0.hasPrefix("tsr_") })

            // Make the core log: listeners that fail, a wrong password, a logout the cloud
            // does not see (it is gone).
            let failing = ThrowingCodesListener(plainSwiftError: false)
            let handle = try client.observeCodes(lockId: lock.id, listener: failing)
            try await logger.records.wait(for: "a warning") {
                $0.contains { $0.message.contains("a codes listener failed") }
            }
            handle.cancel()
            let stranger = try makeClient(in: folder, "stranger")
            await #expect(throws: TesseraError.InvalidCredentials) {
                try await stranger.logIn(cloudUrl: cloud.url, email: uniqueEmail(), password: password, deviceName: nil)
            }
            cloud.stop()
            try await client.logOut()
            #expect(client.account() == nil)
            #expect(store.keys == ["tessera.store-key"])
            try await logger.records.wait(for: "the unconfirmed logout") {
                $0.contains { $0.message.contains("the cloud did not confirm the logout") }
            }

            let records = logger.records.all
            #expect(records.count >= 2)
            let secrets = [password] + tokens + pins
            for record in records {
                for secret in secrets {
                    #expect(!record.message.contains(secret), "\(record.level) \(record.target) carries a secret")
                    #expect(!record.target.contains(secret))
                }
                // A token prefix may only appear redacted.
                for marker in ["tsa_", "tsr_"] {
                    let parts = record.message.components(separatedBy: marker).dropFirst()
                    #expect(parts.allSatisfy { $0.hasPrefix("<redacted>") }, "\(record.message)")
                }
            }
        }

        @Test("an AccessCode holds no digits: its description shows no PIN")
        func accessCodeHasNoPin() throws {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let client = try makeClient(in: folder)
            let lock = try berlinLock(client)
            let code = try client.createCode(
                lockId: lock.id, request: CodeRequest(label: "Guest", schedule: .permanent, pin: .chosen(digits: "730592")))
            #expect(try client.revealPin(id: code.id) == "730592")
            let listed = try #require(try client.codes(lockId: lock.id).first)
            for shown in [code, listed] {
                let descriptions = [String(describing: shown), String(reflecting: shown), "\(shown)"]
                for text in descriptions {
                    #expect(!text.contains("730592"), "\(text)")
                }
                // No stored property holds the digits; only their count travels.
                let fields = Mirror(reflecting: shown).children.compactMap(\.label)
                #expect(
                    fields == [
                        "id", "lockId", "label", "pinLength", "schedule", "allowWidening", "maxUses", "status", "sync",
                        "createdAt", "updatedAt", "version",
                    ])
                #expect(shown.pinLength == 6)
            }
            // Errors do not carry a PIN either.
            let clash = try tesseraError {
                try client.createCode(
                    lockId: lock.id,
                    request: CodeRequest(label: "Copy", schedule: .permanent, pin: .chosen(digits: "730592")))
            }
            #expect(clash == .PinConflict(otherCode: code.id))
            #expect(!String(describing: clash).contains("730592"))
            #expect(!clash.localizedDescription.contains("730592"))
        }
    }
}
