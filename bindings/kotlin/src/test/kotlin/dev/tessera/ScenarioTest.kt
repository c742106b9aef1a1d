package dev.tessera

import dev.tessera.support.CloudProcess
import dev.tessera.support.MemorySecureStore
import dev.tessera.support.PASSWORD
import dev.tessera.support.RecordingCodesListener
import dev.tessera.support.RecordingSyncStatusListener
import dev.tessera.support.TempDir
import dev.tessera.support.addBerlinLock
import dev.tessera.support.at
import dev.tessera.support.date
import dev.tessera.support.newClient
import dev.tessera.support.time
import java.time.Instant
import java.util.UUID
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.TestMethodOrder
import org.junit.jupiter.api.assertThrows

/**
 * The owner's story end to end, against a real tessera-cloud process: sign up on a
 * phone, log in on a tablet, a lock with a code of every schedule kind watched through
 * a listener, the cloud taken away and brought back, revocation, and the errors a UI
 * shows. The steps run in order and build on each other.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class ScenarioTest {
    private val dir = TempDir("tessera-kotlin-scenario")
    private lateinit var cloud: CloudProcess
    private lateinit var phone: TesseraClient
    private lateinit var tablet: TesseraClient
    private val phoneStore = MemorySecureStore()
    private val email = "owner-${UUID.randomUUID()}@example.com"

    private lateinit var account: Account
    private lateinit var lock: Lock
    private val codesListener = RecordingCodesListener("phone codes")
    private val tabletCodesListener = RecordingCodesListener("tablet codes")
    private val statusListener = RecordingSyncStatusListener()
    private val handles = mutableListOf<ListenerHandle>()

    /** Code ids by label, in the order they were made. */
    private val codes = linkedMapOf<String, UUID>()

    @BeforeAll
    fun startCloud() {
        cloud = CloudProcess.start(dir.resolve("cloud"))
        phone = newClient(dir.resolve("phone"), phoneStore)
        tablet = newClient(dir.resolve("tablet"))
    }

    @AfterAll
    fun stopEverything() {
        handles.forEach { it.close() }
        if (::tablet.isInitialized) tablet.close()
        if (::phone.isInitialized) phone.close()
        if (::cloud.isInitialized) cloud.close()
        dir.close()
    }

    @Test
    @Order(1)
    fun `signs up on the phone and keeps the session in the platform's secure store`() {
        assertNull(phone.account())
        account = runBlocking { phone.signUp(cloud.url, email, PASSWORD, "Kotlin phone") }

        assertEquals(email, account.email)
        assertEquals(account, phone.account())
        val now = Instant.now()
        assertTrue(account.createdAt.isAfter(now.minusSeconds(60)) && !account.createdAt.isAfter(now.plusSeconds(5))) {
            "account created at ${account.createdAt}"
        }
        assertEquals(setOf("tessera.store-key", "tessera.session"), phoneStore.entries.keys)
        assertEquals(32, phoneStore.entries.getValue("tessera.store-key").size)
    }

    @Test
    @Order(2)
    fun `a second device logs in to the same account, and not with a wrong password`() {
        assertThrows<TesseraException.InvalidCredentials> {
            runBlocking { tablet.logIn(cloud.url, email, "$PASSWORD!", "Kotlin tablet") }
        }
        assertNull(tablet.account())

        assertThrows<TesseraException.EmailTaken> {
            runBlocking { tablet.signUp(cloud.url, email, PASSWORD, null) }
        }
        // Empty and megabyte strings the cloud judges: refused with its stable codes.
        val noEmail = assertThrows<TesseraException.CloudRejected> {
            runBlocking { tablet.signUp(cloud.url, "", PASSWORD, null) }
        }
        assertEquals("invalid_input" to "not a valid email address", noEmail.code to noEmail.reason)
        val hugePassword = assertThrows<TesseraException.CloudRejected> {
            runBlocking { tablet.logIn(cloud.url, email, "p".repeat(1_000_000), null) }
        }
        assertEquals("payload_too_large", hugePassword.code)
        assertNull(tablet.account())

        val same = runBlocking { tablet.logIn(cloud.url, email, PASSWORD, "Kotlin tablet") }
        assertEquals(account, same)
    }

    @Test
    @Order(3)
    fun `a lock in Berlin, watched through listeners that hear the current list at once`() {
        lock = phone.addBerlinLock()
        assertEquals("Front door", lock.name)
        assertEquals("Europe/Berlin", lock.timeZone)
        assertEquals(listOf(lock), phone.locks())
        assertEquals(lock, phone.lock(lock.id))

        handles += phone.observeCodes(lock.id, codesListener)
        assertEquals(emptyList<AccessCode>(), codesListener.recorder.next())

        handles += phone.observeSyncStatus(statusListener)
        val status = statusListener.recorder.next()
        assertEquals(SyncActivity.Idle, status.activity)
        assertEquals(1u, status.pending) // the new lock waits for the cloud
    }

    @Test
    @Order(4)
    fun `a permanent code with the owner's PIN`() {
        val code = phone.createCode(
            lock.id,
            CodeRequest(label = "Family", schedule = Schedule.Permanent, pin = PinChoice.Chosen("482916")),
        )
        codes["Family"] = code.id
        assertEquals("Family", code.label)
        assertEquals(lock.id, code.lockId)
        assertEquals(6.toUByte(), code.pinLength)
        assertEquals(Schedule.Permanent, code.schedule)
        assertEquals(CodeStatus.ACTIVE, code.status)
        assertEquals(CodeSync.Pending, code.sync)
        assertEquals("482916", phone.revealPin(code.id))
        assertFalse(code.toString().contains("482916")) { code.toString() }

        assertEquals(listOf(code), codesListener.recorder.next())

        val window = phone.codeWindow(code.id, Instant.parse("2031-01-01T00:00:00Z"), null)
        assertEquals(ScheduleKind.PERMANENT, window.kind)
        assertEquals("always, until revoked", window.summary)
        assertEquals(emptyList<Occurrence>(), window.occurrences)
        assertFalse(window.more)
    }

    @Test
    @Order(5)
    fun `a window that starts in the spring-forward gap moves to 03 30 CEST`() {
        // Europe/Berlin, 2031-03-30: clocks go from 02:00 CET to 03:00 CEST.
        val schedule = Schedule.Window(start = at(2031, 3, 30, 2, 30), end = at(2031, 3, 30, 12, 0))

        val preview = phone.previewSchedule(lock.id, schedule, false, "America/New_York")
        assertEquals(ScheduleKind.WINDOW, preview.kind)
        assertEquals("Europe/Berlin", preview.lockZone)
        assertEquals("America/New_York", preview.viewerZone)
        assertEquals("from Sun 2031-03-30 03:30 CEST (UTC+02:00) until Sun 2031-03-30 12:00 CEST (UTC+02:00)", preview.summary)
        assertEquals(
            listOf("start 2031-03-30 02:30 does not exist (clocks go forward); moved to 2031-03-30 03:30"),
            preview.adjustments,
        )
        val occurrence = preview.occurrences.single()
        assertEquals(Instant.parse("2031-03-30T01:30:00Z"), occurrence.start.instant)
        assertEquals(Instant.parse("2031-03-30T10:00:00Z"), occurrence.end.instant)
        assertEquals(ZonedTime(at(2031, 3, 30, 3, 30), "Europe/Berlin", 7200, "CEST"), occurrence.start.lock)
        // New York moved to summer time three weeks earlier: 21:30 EDT the evening before.
        assertEquals(
            ZonedTime(at(2031, 3, 29, 21, 30), "America/New_York", -4 * 3600, "EDT"),
            occurrence.start.viewer,
        )
        assertFalse(preview.more)

        val code = phone.createCode(
            lock.id,
            CodeRequest(label = "Anna", schedule = schedule, pin = PinChoice.Generate(8u)),
        )
        codes["Anna"] = code.id
        assertEquals(schedule, code.schedule) // what the owner asked for, as asked
        assertEquals(8.toUByte(), code.pinLength)
        assertEquals(8, phone.revealPin(code.id).length)

        // The code's window is the preview's, without the viewer's clock this time.
        val window = phone.codeWindow(code.id, Instant.parse("2031-01-01T00:00:00Z"), null)
        val withoutViewer = preview.occurrences.map { Occurrence(it.start.copy(viewer = null), it.end.copy(viewer = null)) }
        assertEquals(preview.copy(viewerZone = null, occurrences = withoutViewer), window)

        // From an instant after the window, nothing is left.
        val over = phone.codeWindow(code.id, Instant.parse("2031-03-30T10:00:00Z"), null)
        assertEquals(emptyList<Occurrence>(), over.occurrences)

        assertEquals(codes.values.toList(), codesListener.recorder.next().map { it.id })
    }

    @Test
    @Order(6)
    fun `a one-time code`() {
        val schedule = Schedule.OneTime(start = at(2031, 4, 1, 8), end = at(2031, 4, 1, 12))
        val code = phone.createCode(
            lock.id,
            CodeRequest(label = "Courier", schedule = schedule, pin = PinChoice.Generate(null)),
        )
        codes["Courier"] = code.id
        assertEquals(schedule, code.schedule)

        val window = phone.codeWindow(code.id, Instant.parse("2031-01-01T00:00:00Z"), null)
        assertEquals(ScheduleKind.ONE_TIME, window.kind)
        assertEquals("one entry between Tue 2031-04-01 08:00 CEST (UTC+02:00) and Tue 2031-04-01 12:00 CEST (UTC+02:00)", window.summary)
        assertEquals(
            listOf(Instant.parse("2031-04-01T06:00:00Z") to Instant.parse("2031-04-01T10:00:00Z")),
            window.occurrences.map { it.start.instant to it.end.instant },
        )
        assertEquals(emptyList<String>(), window.adjustments)

        assertEquals(codes.values.toList(), codesListener.recorder.next().map { it.id })
    }

    @Test
    @Order(7)
    fun `a weekly code across midnight and across the night the clocks change`() {
        val schedule = Schedule.Weekly(
            days = listOf(Weekday.FRIDAY, Weekday.SATURDAY),
            startTime = time(22),
            endTime = time(6),
            firstDate = date(2031, 3, 28),
            lastDate = date(2031, 4, 12),
        )
        val preview = phone.previewSchedule(lock.id, schedule, false, null)
        assertEquals(ScheduleKind.WEEKLY, preview.kind)
        assertEquals(
            listOf(
                // Friday night, still winter time: 22:00 CET to 06:00 CET.
                "2031-03-28T21:00:00Z" to "2031-03-29T05:00:00Z",
                // Saturday night, the clocks go forward: 22:00 CET to 06:00 CEST is 7 hours.
                "2031-03-29T21:00:00Z" to "2031-03-30T04:00:00Z",
                "2031-04-04T20:00:00Z" to "2031-04-05T04:00:00Z",
                "2031-04-05T20:00:00Z" to "2031-04-06T04:00:00Z",
                "2031-04-11T20:00:00Z" to "2031-04-12T04:00:00Z",
            ).map { (start, end) -> Instant.parse(start) to Instant.parse(end) },
            preview.occurrences.map { it.start.instant to it.end.instant },
        )
        assertTrue(preview.more) // Saturday 2031-04-12 follows
        assertEquals(
            ZonedTime(at(2031, 3, 30, 6, 0), "Europe/Berlin", 7200, "CEST"),
            preview.occurrences[1].end.lock,
        )
        assertEquals("Fri, Sat 22:00-06:00 next day (Europe/Berlin), 2031-03-28 to 2031-04-12", preview.summary)

        val code = phone.createCode(
            lock.id,
            CodeRequest(label = "Cleaner", schedule = schedule, pin = PinChoice.Generate(6u), maxUses = 20u),
        )
        codes["Cleaner"] = code.id
        assertEquals(schedule, code.schedule)
        assertEquals(20u, code.maxUses)
        val window = phone.codeWindow(code.id, Instant.parse("2031-03-29T12:00:00Z"), null)
        assertEquals(preview.occurrences.drop(1).map { it.start.instant }, window.occurrences.take(4).map { it.start.instant })
        assertEquals(Instant.parse("2031-04-12T20:00:00Z"), window.occurrences.last().start.instant)
        assertFalse(window.more)

        assertEquals(codes.values.toList(), codesListener.recorder.next().map { it.id })
    }

    @Test
    @Order(8)
    fun `a code that expires two hours after its first use`() {
        val schedule = Schedule.ExpiringAfterFirstUse(
            minutes = 120u,
            start = at(2031, 4, 6, 8),
            end = at(2031, 4, 6, 18),
        )
        val code = phone.createCode(
            lock.id,
            CodeRequest(label = "Plumber", schedule = schedule, pin = PinChoice.Generate(null), maxUses = 3u),
        )
        codes["Plumber"] = code.id

        val window = phone.codeWindow(code.id, Instant.parse("2031-01-01T00:00:00Z"), "Asia/Kathmandu")
        assertEquals(ScheduleKind.EXPIRING_AFTER_FIRST_USE, window.kind)
        assertEquals(120u, window.firstUseMinutes)
        assertEquals(
            "for 2 h after the first entry, which must be between Sun 2031-04-06 08:00 CEST (UTC+02:00) and Sun 2031-04-06 18:00 CEST (UTC+02:00)",
            window.summary,
        )
        val occurrence = window.occurrences.single()
        assertEquals(Instant.parse("2031-04-06T06:00:00Z"), occurrence.start.instant)
        assertEquals(Instant.parse("2031-04-06T16:00:00Z"), occurrence.end.instant)
        assertEquals(ZonedTime(at(2031, 4, 6, 11, 45), "Asia/Kathmandu", 20700, "+0545"), occurrence.start.viewer)

        val listed = codesListener.recorder.next()
        assertEquals(codes.values.toList(), listed.map { it.id })
        assertEquals(
            listOf(
                ScheduleKind.PERMANENT,
                ScheduleKind.WINDOW,
                ScheduleKind.ONE_TIME,
                ScheduleKind.WEEKLY,
                ScheduleKind.EXPIRING_AFTER_FIRST_USE,
            ),
            listed.map { phone.codeWindow(it.id, Instant.parse("2031-01-01T00:00:00Z"), null).kind },
        )
        assertEquals(listed, phone.codes(lock.id))
    }

    @Test
    @Order(9)
    fun `errors arrive as typed exceptions`() {
        val weak = assertThrows<TesseraException.WeakPin> {
            phone.createCode(lock.id, CodeRequest(label = "Weak", schedule = Schedule.Permanent, pin = PinChoice.Chosen("1234")))
        }
        assertEquals(WeakPinRule.SEQUENCE, weak.rule)
        assertEquals("the digits count up or down in sequence", weak.reason)

        val backwards = assertThrows<TesseraException.InvalidSchedule> {
            phone.createCode(
                lock.id,
                CodeRequest(
                    label = "Backwards",
                    schedule = Schedule.Window(start = at(2031, 5, 2, 10), end = at(2031, 5, 1, 10)),
                    pin = PinChoice.Generate(null),
                ),
            )
        }
        assertEquals("the window ends before it starts", backwards.reason)
        assertThrows<TesseraException.InvalidSchedule> {
            phone.previewSchedule(lock.id, Schedule.Window(start = at(2031, 5, 2, 10), end = at(2031, 5, 1, 10)), false, null)
        }

        val clash = assertThrows<TesseraException.PinConflict> {
            phone.createCode(lock.id, CodeRequest(label = "Clash", schedule = Schedule.Permanent, pin = PinChoice.Chosen("482916")))
        }
        assertEquals(codes.getValue("Family"), clash.otherCode)

        // Nothing of that reached the list.
        assertEquals(codes.values.toList(), phone.codes(lock.id).map { it.id })
    }

    @Test
    @Order(10)
    fun `sync pushes everything and the tablet sees the same codes and PINs`() {
        // Pushed: the lock and five codes. The change feed then brings them back with
        // the owner's membership of the lock: seven changes.
        val report = runBlocking { phone.sync() }
        assertEquals(SyncReport(pushed = 6u, refused = 0u, pulled = 7u), report)
        val status = phone.syncStatus()
        assertEquals(SyncActivity.Idle, status.activity)
        assertEquals(0u, status.pending)
        assertNotNull(status.lastSuccess)
        assertTrue(phone.codes(lock.id).all { it.sync == CodeSync.Synced })
        statusListener.recorder.awaitMatching { it.activity == SyncActivity.Idle && it.pending == 0u }

        // Before its first sync the tablet knows nothing of the lock.
        val unknown = assertThrows<TesseraException.NotFound> { tablet.observeCodes(lock.id, tabletCodesListener) }
        assertEquals(lock.id.toString(), unknown.id)
        assertEquals(SyncReport(pushed = 0u, refused = 0u, pulled = 7u), runBlocking { tablet.sync() })

        handles += tablet.observeCodes(lock.id, tabletCodesListener)
        val seen = tabletCodesListener.recorder.next()
        assertEquals(codes.values.toList(), seen.map { it.id })
        assertEquals(codes.keys.toList(), seen.map { it.label })
        assertEquals(phone.codes(lock.id).map { it.schedule }, seen.map { it.schedule })
        assertEquals("482916", tablet.revealPin(codes.getValue("Family")))
        assertEquals(phone.revealPin(codes.getValue("Anna")), tablet.revealPin(codes.getValue("Anna")))
        assertEquals(listOf(lock), tablet.locks())
    }

    @Test
    @Order(11)
    fun `without the cloud, codes are still made and wait, and once the cloud is back, sync pushes them`() {
        cloud.stop()

        val offline = listOf("Neighbour", "Dog sitter").map { label ->
            phone.createCode(lock.id, CodeRequest(label = label, schedule = Schedule.Permanent, pin = PinChoice.Generate(null)))
                .also { codes[label] = it.id }
        }
        assertEquals(2u, phone.syncStatus().pending)
        assertTrue(offline.all { it.sync == CodeSync.Pending })
        codesListener.recorder.awaitMatching { list -> list.map { it.id } == codes.values.toList() }

        val error = assertThrows<TesseraException.Offline> { runBlocking { phone.sync() } }
        assertTrue(error.reason.isNotBlank())
        val status = phone.syncStatus()
        assertTrue(status.activity is SyncActivity.Offline) { "status: $status" }
        assertEquals(2u, status.pending)
        statusListener.recorder.awaitMatching { it.activity is SyncActivity.Offline && it.pending == 2u }

        // One more while offline: the outbox grows.
        phone.createCode(lock.id, CodeRequest(label = "Gardener", schedule = Schedule.Permanent, pin = PinChoice.Generate(null)))
            .also { codes["Gardener"] = it.id }
        assertEquals(3u, phone.syncStatus().pending)

        cloud.start() // the same port, the same database
        val report = runBlocking { phone.sync() }
        assertEquals(SyncReport(pushed = 3u, refused = 0u, pulled = 3u), report)
        assertEquals(SyncActivity.Idle, phone.syncStatus().activity)
        assertEquals(0u, phone.syncStatus().pending)
        statusListener.recorder.awaitMatching { it.activity == SyncActivity.Idle && it.pending == 0u }
        codesListener.recorder.awaitMatching { list -> list.all { it.sync == CodeSync.Synced } && list.size == codes.size }

        assertEquals(SyncReport(pushed = 0u, refused = 0u, pulled = 3u), runBlocking { tablet.sync() })
        tabletCodesListener.recorder.awaitMatching { list -> list.map { it.id } == codes.values.toList() }
    }

    @Test
    @Order(12)
    fun `revoking a code reaches the listener and the other device`() {
        val id = codes.getValue("Courier")
        val revoked = phone.revokeCode(id)
        assertEquals(CodeStatus.REVOKED, revoked.status)
        assertEquals(CodeSync.Pending, revoked.sync)
        assertEquals(revoked, phone.revokeCode(id)) // twice changes nothing

        val heard = codesListener.recorder.awaitMatching { list -> list.any { it.id == id && it.status == CodeStatus.REVOKED } }
        assertEquals(codes.values.toList(), heard.map { it.id }) // revoked codes stay listed
        assertEquals(1u, phone.syncStatus().pending)

        assertEquals(SyncReport(pushed = 1u, refused = 0u, pulled = 1u), runBlocking { phone.sync() })
        assertEquals(SyncReport(pushed = 0u, refused = 0u, pulled = 1u), runBlocking { tablet.sync() })
        val onTablet = tabletCodesListener.recorder.awaitMatching { list -> list.any { it.id == id && it.status == CodeStatus.REVOKED } }
        assertEquals(
            codes.keys.map { if (it == "Courier") CodeStatus.REVOKED else CodeStatus.ACTIVE },
            onTablet.map { it.status },
        )
    }
}
