// Share links through the Swift bindings, against a real tessera-cloud: the owner's
// shareCode, the visitor's openShareLink on a second client that never signed in,
// view limits, revoking a link and its code, a self-contained link with the cloud
// gone, damaged links, and no PIN or link secret in any description.

import Foundation
import Tessera
import Testing

extension FFI {
    @Suite("Share links")
    struct ShareLinks {
        static let pngSignature = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        static let base64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

        /// An owner signed in on a cloud with a window code on a Berlin lock, and a
        /// visitor: a client in a fresh folder that never signed in.
        struct Party {
            let folder: TemporaryDirectory
            let cloud: Cloud
            let owner: TesseraClient
            let visitor: TesseraClient
            let code: AccessCode
            let pin: String
            let start: Date
            let end: Date

            func share(_ request: ShareRequest) async throws -> SharedLink {
                try await owner.shareCode(codeId: code.id, request: request)
            }

            func open(_ url: String) async throws -> VisitorPass {
                try await visitor.openShareLink(url: url)
            }

            func shares() async throws -> [ShareInfo] {
                try await owner.codeShares(codeId: code.id)
            }

            func close() {
                cloud.stop()
                folder.remove()
            }
        }

        /// Signs up, adds "Front door" (Berlin) and a code "Anna" from 10:00 tomorrow
        /// until 18:00 the day after, Berlin time (clear of any daylight-saving gap).
        func party() async throws -> Party {
            let folder = try TemporaryDirectory()
            let cloud = try await Cloud.start(in: folder.url)
            let owner = try makeClient(in: folder, "owner")
            _ = try await owner.signUp(
                cloudUrl: cloud.url, email: uniqueEmail("host"), password: password, deviceName: "Swift host")
            let lock = try berlinLock(owner)

            var berlin = Calendar(identifier: .gregorian)
            berlin.timeZone = try #require(TimeZone(identifier: "Europe/Berlin"))
            let today = berlin.startOfDay(for: Date())
            let tomorrow = berlin.dateComponents(
                [.year, .month, .day], from: try #require(berlin.date(byAdding: .day, value: 1, to: today)))
            let after = berlin.dateComponents(
                [.year, .month, .day], from: try #require(berlin.date(byAdding: .day, value: 2, to: today)))
            func at(_ day: DateComponents, _ hour: Int) throws -> (LocalDateTime, Date) {
                let wallClock = wall(
                    Int32(day.year!), UInt8(day.month!), UInt8(day.day!), UInt8(hour))
                var components = day
                components.hour = hour
                return (wallClock, try #require(berlin.date(from: components)))
            }
            let (startWall, start) = try at(tomorrow, 10)
            let (endWall, end) = try at(after, 18)

            let code = try owner.createCode(
                lockId: lock.id,
                request: CodeRequest(
                    label: "Anna", schedule: .window(start: startWall, end: endWall), pin: .generate(length: 8)))
            let pin = try owner.revealPin(id: code.id)
            #expect(pin.count == 8 && pin.allSatisfy(\.isNumber))
            let visitor = try makeClient(in: folder, "visitor")
            #expect(visitor.account() == nil)
            return Party(
                folder: folder, cloud: cloud, owner: owner, visitor: visitor, code: code, pin: pin, start: start,
                end: end)
        }

        /// An .ics text with its folded lines joined (RFC 5545 folds at 75 octets).
        static func unfolded(_ ics: String) -> String {
            ics.replacingOccurrences(of: "\r\n ", with: "").replacingOccurrences(of: "\r\n\t", with: "")
        }

        /// The link's secret: everything after "#".
        static func fragment(_ url: String) -> String {
            String(url[url.index(after: url.firstIndex(of: "#")!)...])
        }

        /// `url` with the fragment's character at `at` (negative: from the end)
        /// replaced by another one from `alphabet`.
        static func tamper(_ url: String, at: Int, alphabet: String = base64url) -> String {
            let hash = url.firstIndex(of: "#")!
            var secret = Array(url[url.index(after: hash)...])
            let index = ((at % secret.count) + secret.count) % secret.count
            secret[index] = alphabet.first { $0 != secret[index] }!
            return String(url[...hash]) + String(secret)
        }

        /// `url` with its expiry (after the last ".") replaced.
        static func withExpiry(_ url: String, _ expiry: String) -> String {
            String(url[...url.lastIndex(of: ".")!]) + expiry
        }

        @Test("a hosted link opens as often as allowed and shows no PIN")
        func hostedLink() async throws {
            let party = try await party()
            defer { party.close() }
            let pin = party.pin

            let link = try await party.share(
                ShareRequest(maxViews: 2, instructions: "Key box left of the door", hostNote: "Welcome, Anna!"))
            let url = link.url()
            let id = try #require(link.id())
            #expect(url.hasPrefix("\(party.cloud.url)/s/\(id)#"), "\(url)")
            #expect(!url.contains(pin))
            #expect(link.maxViews() == 2)
            #expect(link.expiresAt() == party.end)  // as long as the code, by default

            let text = link.shareText()
            #expect(text.contains(url) && text.contains("Front door") && text.contains("Welcome, Anna!"))
            #expect(!text.contains(pin))
            let svg = try link.qrSvg()
            #expect(svg.contains("<svg"))
            #expect(!svg.contains(pin))
            let png = try link.qrPng()
            #expect(png.count > 100)
            #expect(png.prefix(8) == Self.pngSignature)
            let ics = Self.unfolded(link.calendar())
            #expect(ics.contains("BEGIN:VCALENDAR"))
            #expect(ics.components(separatedBy: "BEGIN:VEVENT").count == 2)
            #expect(ics.contains("Key box left of the door"))
            #expect(!ics.contains(pin))

            // The visitor: no account; the link says where to go.
            for _ in 0..<2 {
                let pass = try await party.open(url)
                #expect(pass.code.digits() == pin)
                #expect([pass.lockName, pass.label, pass.lockZone] == ["Front door", "Anna", "Europe/Berlin"])
                #expect(pass.kind == .window)
                #expect(!pass.oneTime)
                #expect(pass.intervals == [PassWindow(start: party.start, end: party.end)])
                #expect(pass.firstUseMinutes == nil && pass.firstUseBy == nil)
                #expect(pass.instructions == "Key box left of the door")
                #expect(pass.hostNote == "Welcome, Anna!")
                #expect(pass.address == nil && pass.hostContact == nil)
                #expect(pass.expiresAt == party.end)
                #expect(pass.issuedAt <= Date())
                #expect(!pass.summary.isEmpty)
            }
            let third = try await tesseraError { try await party.open(url) }
            #expect(third == .ShareLinkUnavailable)

            let info = try #require(try await party.shares().first)
            #expect(try await party.shares().count == 1)
            #expect(
                info
                    == ShareInfo(
                        id: id, expiresAt: party.end, maxViews: 2, views: 2, revoked: false, createdAt: info.createdAt))
        }

        @Test("revoking a link or its code stops it")
        func revoking() async throws {
            let party = try await party()
            defer { party.close() }
            let kept = try await party.share(ShareRequest())
            let revoked = try await party.share(ShareRequest(maxViews: 5))
            let keptId = try #require(kept.id())
            let revokedId = try #require(revoked.id())
            #expect(keptId != revokedId)
            #expect(kept.maxViews() == nil)
            #expect(try await party.open(revoked.url()).code.digits() == party.pin)

            // One link revoked: it stops at once; the other still opens.
            try await party.owner.revokeShare(id: revokedId)
            #expect(try await tesseraError { try await party.open(revoked.url()) } == .ShareLinkUnavailable)
            #expect(try await party.open(kept.url()).code.digits() == party.pin)
            let views = Dictionary(
                uniqueKeysWithValues: try await party.shares().map {
                    ($0.id, "\($0.views) views, revoked: \($0.revoked)")
                })
            #expect(views == [keptId: "1 views, revoked: false", revokedId: "1 views, revoked: true"])

            // The code revoked (and synced): every link of it stops opening.
            let later = try await party.share(ShareRequest())
            let laterId = try #require(later.id())
            _ = try party.owner.revokeCode(id: party.code.id)
            #expect(try await party.owner.sync().pushed == 1)
            for link in [kept, later] {
                #expect(try await tesseraError { try await party.open(link.url()) } == .ShareLinkUnavailable)
            }
            let shares = try await party.shares()
            #expect(Set(shares.map(\.id)) == Set([keptId, revokedId, laterId]))
            #expect(shares.count == 3 && shares.allSatisfy(\.revoked))
            // A revoked code is not shared again.
            let again = try await tesseraError { try await party.share(ShareRequest()) }
            guard case .InvalidInput = again else {
                Issue.record("sharing a revoked code: \(again)")
                return
            }
        }

        @Test("a self-contained link opens with the cloud gone")
        func selfContained() async throws {
            let party = try await party()
            defer { party.close() }
            let hosted = try await party.share(ShareRequest())
            let link = try await party.share(ShareRequest(selfContained: true, maxViews: 1))
            let url = link.url()
            #expect(url.hasPrefix("\(party.cloud.url)/s/#"), "\(url)")
            #expect(link.id() == nil && link.maxViews() == nil)
            #expect(link.expiresAt() == party.end)
            #expect(!url.contains(party.pin) && !link.shareText().contains(party.pin))
            #expect(!Self.unfolded(link.calendar()).contains(party.pin))
            #expect(try link.qrPng().prefix(8) == Self.pngSignature)
            // Nothing of it on the cloud: only the hosted link is there.
            #expect(try await party.shares().map(\.id) == [hosted.id()].compactMap { $0 })

            party.cloud.stop()
            for _ in 0..<2 {  // no view limit: the cloud never sees it
                let pass = try await party.open(url)
                #expect(pass.code.digits() == party.pin)
                #expect(pass.lockName == "Front door" && pass.label == "Anna")
                #expect(pass.intervals == [PassWindow(start: party.start, end: party.end)])
            }
            // A hosted link needs its cloud.
            let offline = try await tesseraError { try await party.open(hosted.url()) }
            guard case .Offline = offline else {
                Issue.record("a hosted link with the cloud gone: \(offline)")
                return
            }
        }

        @Test("damaged links do not open")
        func damaged() async throws {
            let party = try await party()
            defer { party.close() }
            let portable = try await party.share(ShareRequest(selfContained: true)).url()
            let hosted = try await party.share(ShareRequest(maxViews: 3))
            let hostedUrl = hosted.url()

            let damaged = [
                Self.tamper(portable, at: -12),  // one character of the sealed pass: the cipher refuses it
                Self.tamper(portable, at: 5),  // ... of its key (the payload starts after "1.")
                Self.tamper(hostedUrl, at: 3, alphabet: "*"),  // a hosted key that is no key at all
                // A hosted link's expiry changed: the cloud's pass is bound to the real one.
                Self.withExpiry(hostedUrl, "9999999999"),
                "not a link",
                "",
                "\(party.cloud.url)/s/",
                String(hostedUrl.prefix { $0 != "#" }),  // the key cut off
                "ftp://127.0.0.1/s/abc#def.123",
            ]
            for url in damaged {
                let error = try await tesseraError { try await party.open(url) }
                guard case .ShareLinkInvalid(let reason) = error else {
                    Issue.record("\(url.debugDescription) gave \(error), not ShareLinkInvalid")
                    continue
                }
                #expect(!reason.isEmpty)
                #expect(!String(describing: error).contains(party.pin))
            }

            // A well-formed but wrong key: the cloud answers as for any link it will not
            // open (it cannot tell a typo from a guess), and no view is spent.
            #expect(
                try await tesseraError { try await party.open(Self.tamper(hostedUrl, at: 3)) } == .ShareLinkUnavailable)
            // An expiry in the past is refused before asking anyone.
            #expect(
                try await tesseraError { try await party.open(Self.withExpiry(hostedUrl, "1000000000")) }
                    == .ShareLinkExpired)

            #expect(try await party.open(portable).code.digits() == party.pin)
            #expect(try await party.open(hostedUrl).code.digits() == party.pin)
            // The changed expiry spent one view (its key was right), the real link one.
            let shares = try await party.shares()
            #expect(shares.map(\.id) == [hosted.id()].compactMap { $0 })
            #expect(shares.map(\.views) == [2])
        }

        @Test("links, passes and codes never describe the PIN or the link's secret")
        func descriptions() async throws {
            let party = try await party()
            defer { party.close() }
            for request in [ShareRequest(), ShareRequest(selfContained: true)] {
                let link = try await party.share(request)
                let secret = Self.fragment(link.url())
                let pass = try await party.open(link.url())
                #expect(pass.code.digits() == party.pin)
                let key = secret.split(separator: ".").map(String.init).max { $0.count < $1.count }!
                let secrets = [party.pin, secret, key]
                let shown = [
                    String(describing: link), String(reflecting: link), "\(link)",
                    String(describing: pass), String(reflecting: pass), "\(pass)",
                    String(describing: pass.code), String(reflecting: pass.code), "\(pass.code)",
                    String(describing: try await party.shares()),
                ]
                for text in shown {
                    for value in secrets {
                        #expect(!text.contains(value), "\(text) shows a secret")
                    }
                }
                // The pass's stored properties: the digits only behind PassCode.
                let fields = Mirror(reflecting: pass).children.compactMap(\.label)
                #expect(fields.contains("code") && !fields.contains("digits"))
            }
        }
    }
}
