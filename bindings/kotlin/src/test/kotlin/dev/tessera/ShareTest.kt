package dev.tessera

import dev.tessera.support.CloudProcess
import dev.tessera.support.PASSWORD
import dev.tessera.support.addBerlinLock
import dev.tessera.support.at
import dev.tessera.support.newClient
import java.nio.file.Path
import java.time.Instant
import java.time.LocalTime
import java.time.ZoneId
import java.time.ZonedDateTime
import java.util.UUID
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * Share links through the FFI, against a real tessera-cloud: the owner's `shareCode`,
 * the visitor's `openShareLink` on a second client that never signed in, view limits,
 * revoking a link and its code, a self-contained link with the cloud gone, damaged
 * links, and no PIN or link secret in any toString().
 */
class ShareTest {
    @TempDir
    lateinit var dir: Path

    /** An owner signed in with a window code on a Berlin lock, and a visitor with no account. */
    private class Party(
        val owner: TesseraClient,
        val visitor: TesseraClient,
        val code: AccessCode,
        val pin: String,
        val start: Instant,
        val end: Instant,
    ) : AutoCloseable {
        fun share(request: ShareRequest): SharedLink = runBlocking { owner.shareCode(code.id, request) }

        fun open(url: String): VisitorPass = runBlocking { visitor.openShareLink(url) }

        fun shares(): List<ShareInfo> = runBlocking { owner.codeShares(code.id) }

        override fun close() {
            visitor.close()
            owner.close()
        }
    }

    /**
     * Signs up, adds "Front door" (Berlin) and a code "Anna" from 10:00 tomorrow until
     * 18:00 the day after, Berlin time (clear of any daylight-saving gap).
     */
    private fun party(cloud: CloudProcess): Party {
        val owner = newClient(dir.resolve("owner"))
        runBlocking { owner.signUp(cloud.url, "host-${UUID.randomUUID()}@example.com", PASSWORD, "Kotlin host") }
        val lock = owner.addBerlinLock("Front door")
        val tomorrow = ZonedDateTime.now(BERLIN).toLocalDate().plusDays(1)
        val after = tomorrow.plusDays(1)
        val schedule = Schedule.Window(
            start = at(tomorrow.year, tomorrow.monthValue, tomorrow.dayOfMonth, 10),
            end = at(after.year, after.monthValue, after.dayOfMonth, 18),
        )
        val code = owner.createCode(lock.id, CodeRequest("Anna", schedule, PinChoice.Generate(8u)))
        val pin = owner.revealPin(code.id)
        assertTrue(pin.length == 8 && pin.all(Char::isDigit)) { "PIN of ${pin.length} characters" }
        val visitor = newClient(dir.resolve("visitor"))
        assertNull(visitor.account())
        return Party(
            owner,
            visitor,
            code,
            pin,
            tomorrow.atTime(LocalTime.of(10, 0)).atZone(BERLIN).toInstant(),
            after.atTime(LocalTime.of(18, 0)).atZone(BERLIN).toInstant(),
        )
    }

    private fun cloud() = CloudProcess.start(dir.resolve("cloud"))

    @Test
    fun `a hosted link opens as often as allowed and shows no PIN`() {
        cloud().use { cloud ->
            party(cloud).use { party ->
                val pin = party.pin
                val link = party.share(
                    ShareRequest(maxViews = 2u, instructions = "Key box left of the door", hostNote = "Welcome, Anna!"),
                )
                val url = link.url()
                val id = checkNotNull(link.id()) { "a hosted link has an id" }
                assertTrue(url.startsWith("${cloud.url}/s/$id#")) { url }
                assertFalse(url.contains(pin)) { "the link shows the PIN" }
                assertEquals(2u, link.maxViews())
                assertEquals(party.end, link.expiresAt()) // as long as the code, by default

                val text = link.shareText()
                assertTrue(listOf(url, "Front door", "Welcome, Anna!").all { text.contains(it) }) { text }
                assertFalse(text.contains(pin)) { "the share text shows the PIN" }
                val svg = link.qrSvg()
                assertTrue(svg.contains("<svg")) { svg.take(200) }
                assertFalse(svg.contains(pin))
                val png = link.qrPng()
                assertTrue(png.size > 100)
                assertArrayEquals(PNG_SIGNATURE, png.copyOf(PNG_SIGNATURE.size))
                val ics = unfolded(link.calendar())
                assertTrue(ics.contains("BEGIN:VCALENDAR")) { ics }
                assertEquals(1, Regex("BEGIN:VEVENT").findAll(ics).count()) { ics }
                assertTrue(ics.contains("Key box left of the door")) { ics }
                assertFalse(ics.contains(pin)) { "the calendar shows the PIN" }

                // The visitor: no account; the link says where to go.
                repeat(2) {
                    val pass = party.open(url)
                    assertEquals(pin, pass.code.digits())
                    assertEquals(
                        listOf("Front door", "Anna", "Europe/Berlin"),
                        listOf(pass.lockName, pass.label, pass.lockZone),
                    )
                    assertEquals(ScheduleKind.WINDOW, pass.kind)
                    assertFalse(pass.oneTime)
                    assertEquals(listOf(PassWindow(party.start, party.end)), pass.intervals)
                    assertNull(pass.firstUseMinutes)
                    assertNull(pass.firstUseBy)
                    assertEquals("Key box left of the door", pass.instructions)
                    assertEquals("Welcome, Anna!", pass.hostNote)
                    assertNull(pass.address)
                    assertNull(pass.hostContact)
                    assertEquals(party.end, pass.expiresAt)
                    assertFalse(pass.issuedAt.isAfter(Instant.now()))
                    assertTrue(pass.summary.isNotBlank())
                }
                val third = assertThrows<TesseraException.ShareLinkUnavailable> { party.open(url) }
                assertEquals(TesseraException.ShareLinkUnavailable::class.java, third.javaClass)

                val info = party.shares().single()
                assertEquals(ShareInfo(id, party.end, 2u, 2u, false, info.createdAt), info)
            }
        }
    }

    @Test
    fun `revoking a link or its code stops it`() {
        cloud().use { cloud ->
            party(cloud).use { party ->
                val kept = party.share(ShareRequest())
                val revoked = party.share(ShareRequest(maxViews = 5u))
                assertNotEquals(kept.id(), revoked.id())
                assertNull(kept.maxViews())
                assertEquals(party.pin, party.open(revoked.url()).code.digits())

                // One link revoked: it stops at once; the other still opens.
                runBlocking { party.owner.revokeShare(revoked.id()!!) }
                val gone = assertThrows<TesseraException.ShareLinkUnavailable> { party.open(revoked.url()) }
                assertEquals(TesseraException.ShareLinkUnavailable::class.java, gone.javaClass)
                assertEquals(party.pin, party.open(kept.url()).code.digits())
                assertEquals(
                    mapOf(kept.id() to (1u to false), revoked.id() to (1u to true)),
                    party.shares().associate { it.id to (it.views to it.revoked) },
                )

                // The code revoked (and synced): every link of it stops opening.
                val later = party.share(ShareRequest())
                party.owner.revokeCode(party.code.id)
                assertEquals(1u, runBlocking { party.owner.sync() }.pushed)
                for (link in listOf(kept, later)) {
                    val refused = assertThrows<TesseraException.ShareLinkUnavailable> { party.open(link.url()) }
                    assertEquals(TesseraException.ShareLinkUnavailable::class.java, refused.javaClass)
                }
                val shares = party.shares()
                assertEquals(setOf(kept.id(), revoked.id(), later.id()), shares.map { it.id }.toSet())
                assertTrue(shares.all { it.revoked }) { "$shares" }
                // A revoked code is not shared again.
                assertThrows<TesseraException.InvalidInput> { party.share(ShareRequest()) }
            }
        }
    }

    @Test
    fun `a self-contained link opens with the cloud gone`() {
        cloud().use { cloud ->
            party(cloud).use { party ->
                val hosted = party.share(ShareRequest())
                val link = party.share(ShareRequest(selfContained = true, maxViews = 1u))
                val url = link.url()
                assertTrue(url.startsWith("${cloud.url}/s/#")) { url }
                assertNull(link.id())
                assertNull(link.maxViews())
                assertEquals(party.end, link.expiresAt())
                assertFalse(url.contains(party.pin))
                assertFalse(link.shareText().contains(party.pin))
                assertFalse(unfolded(link.calendar()).contains(party.pin))
                assertArrayEquals(PNG_SIGNATURE, link.qrPng().copyOf(PNG_SIGNATURE.size))
                // Nothing of it on the cloud: only the hosted link is there.
                assertEquals(listOf(hosted.id()), party.shares().map { it.id })

                cloud.stop()
                repeat(2) { // no view limit: the cloud never sees it
                    val pass = party.open(url)
                    assertEquals(party.pin, pass.code.digits())
                    assertEquals("Front door" to "Anna", pass.lockName to pass.label)
                    assertEquals(listOf(PassWindow(party.start, party.end)), pass.intervals)
                }
                // A hosted link needs its cloud.
                assertThrows<TesseraException.Offline> { party.open(hosted.url()) }
            }
        }
    }

    @Test
    fun `damaged links do not open`() {
        cloud().use { cloud ->
            party(cloud).use { party ->
                val portable = party.share(ShareRequest(selfContained = true)).url()
                val hosted = party.share(ShareRequest(maxViews = 3u))
                val expiry = hosted.url().substringAfterLast('.')

                val damaged = listOf(
                    tamper(portable, -12), // one character of the sealed pass: the cipher refuses it
                    tamper(portable, 5), // ... of its key (the payload starts after "1.")
                    tamper(hosted.url(), 3, alphabet = "*"), // a hosted key that is no key at all
                    // A hosted link's expiry changed: the cloud's pass is bound to the real one.
                    hosted.url().removeSuffix(expiry) + "9999999999",
                    "not a link",
                    "",
                    "${cloud.url}/s/",
                    hosted.url().substringBefore('#'), // the key cut off
                    "ftp://127.0.0.1/s/abc#def.123",
                )
                for (url in damaged) {
                    val error = assertThrows<TesseraException.ShareLinkInvalid>(url) { party.open(url) }
                    assertEquals(TesseraException.ShareLinkInvalid::class.java, error.javaClass)
                    assertTrue(error.reason.isNotBlank())
                    assertFalse(error.toString().contains(party.pin))
                }

                // A well-formed but wrong key: the cloud answers as for any link it will not
                // open (it cannot tell a typo from a guess), and no view is spent.
                assertThrows<TesseraException.ShareLinkUnavailable> { party.open(tamper(hosted.url(), 3)) }
                // An expiry in the past is refused before asking anyone.
                assertThrows<TesseraException.ShareLinkExpired> {
                    party.open(hosted.url().removeSuffix(expiry) + "1000000000")
                }

                assertEquals(party.pin, party.open(portable).code.digits())
                assertEquals(party.pin, party.open(hosted.url()).code.digits())
                // The changed expiry spent one view (its key was right), the real link one.
                val info = party.shares().single()
                assertEquals(hosted.id() to 2u, info.id to info.views)
            }
        }
    }

    @Test
    fun `links, passes and codes never print the PIN or the link's secret`() {
        cloud().use { cloud ->
            party(cloud).use { party ->
                for (request in listOf(ShareRequest(), ShareRequest(selfContained = true))) {
                    val link = party.share(request)
                    val secret = link.url().substringAfter('#')
                    val pass = party.open(link.url())
                    assertEquals(party.pin, pass.code.digits())
                    val secrets = listOf(party.pin, secret, secret.split('.').maxBy { it.length })
                    val shown = listOf(
                        link.toString(),
                        "$link",
                        pass.toString(),
                        pass.copy().toString(),
                        pass.code.toString(),
                        "${pass.code}",
                        party.shares().toString(),
                    )
                    for (text in shown) {
                        for (value in secrets) {
                            assertFalse(text.contains(value)) { "$text shows a secret" }
                        }
                    }
                }
            }
        }
    }

    private companion object {
        val BERLIN: ZoneId = ZoneId.of("Europe/Berlin")
        val PNG_SIGNATURE = byteArrayOf(0x89.toByte(), 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A)
        const val BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

        /** An .ics text with its folded lines joined (RFC 5545 folds at 75 octets). */
        fun unfolded(ics: String) = ics.replace("\r\n ", "").replace("\r\n\t", "")

        /** [url] with the fragment's character at [at] (negative: from the end) replaced from [alphabet]. */
        fun tamper(url: String, at: Int, alphabet: String = BASE64URL): String {
            val head = url.substringBefore('#')
            val secret = url.substringAfter('#')
            val index = Math.floorMod(at, secret.length)
            val replacement = alphabet.first { it != secret[index] }
            return "$head#${secret.substring(0, index)}$replacement${secret.substring(index + 1)}"
        }
    }
}
