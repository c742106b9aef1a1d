package dev.tessera

import dev.tessera.support.MemorySecureStore
import dev.tessera.support.PASSWORD
import dev.tessera.support.addBerlinLock
import dev.tessera.support.at
import dev.tessera.support.createPermanent
import dev.tessera.support.date
import dev.tessera.support.newClient
import dev.tessera.support.time
import java.nio.file.Path
import java.time.Instant
import java.util.UUID
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * Bad input from the app: each gives one exact, typed exception and leaves the client
 * working. Local calls only; no cloud is needed.
 */
class BadInputTest {
    @TempDir
    lateinit var dir: Path
    private lateinit var client: TesseraClient
    private lateinit var lock: Lock
    private lateinit var code: AccessCode

    private val megabyte = 1_000_000

    @BeforeEach
    fun openClient() {
        client = newClient(dir.resolve("client"))
        lock = client.addBerlinLock()
        code = client.createPermanent(lock, "Family")
    }

    @AfterEach
    fun stillWorks() {
        // Whatever was refused, the client carries on as before.
        assertEquals(listOf(code), client.codes(lock.id))
        client.close()
    }

    private fun assertInvalidInput(field: String, reason: String, call: () -> Unit) {
        val error = assertThrows<TesseraException.InvalidInput> { call() }
        assertEquals(field, error.field)
        assertEquals(reason, error.reason)
    }

    @Test
    fun `a malformed UUID string is refused by the platform before it reaches Rust`() {
        val error = assertThrows<IllegalArgumentException> { UUID.fromString("not-a-uuid") }
        assertEquals("Invalid UUID string: not-a-uuid", error.message)
        assertThrows<IllegalArgumentException> { UUID.fromString("") }
    }

    @Test
    fun `a malformed id string forced through the raw FFI is refused by Rust as input`() {
        // java.util.UUID cannot hold a malformed id, so this goes under the generated
        // wrapper (as a Python caller, whose ids are strings, does).
        val status = UniffiRustCallStatus()
        val buffer = client.callWithHandle { handle ->
            UniffiLib.uniffi_tessera_ffi_fn_method_tesseraclient_code(
                handle,
                FfiConverterString.lower("not-a-uuid"),
                status,
            )
        }
        assertTrue(status.isError()) { "call status ${status.code}" }
        assertEquals(0L, buffer.len)
        val error = FfiConverterTypeTesseraError.lift(status.error_buf)
        assertTrue(error is TesseraException.InvalidInput) { "got $error" }
        error as TesseraException.InvalidInput
        assertEquals("id", error.field)
        assertEquals("\"not-a-uuid\" is not a UUID", error.reason)
    }

    @Test
    fun `a well-formed but unknown UUID is NotFound`() {
        val unknown = UUID.fromString("00000000-0000-4000-8000-000000000000")
        for (call in listOf<() -> Unit>(
            { client.code(unknown) },
            { client.revealPin(unknown) },
            { client.revokeCode(unknown) },
            { client.updateCode(unknown, CodeChanges(label = "New")) },
            { client.codeWindow(unknown, Instant.parse("2031-01-01T00:00:00Z"), null) },
        )) {
            val error = assertThrows<TesseraException.NotFound> { call() }
            assertEquals("code", error.what)
            assertEquals(unknown.toString(), error.id)
        }
        for (call in listOf<() -> Unit>(
            { client.lock(unknown) },
            { client.codes(unknown) },
            { client.renameLock(unknown, "Back door") },
            { client.createPermanent(lock.copy(id = unknown), "Nobody") },
            { client.observeCodes(unknown, dev.tessera.support.RecordingCodesListener()) },
        )) {
            val error = assertThrows<TesseraException.NotFound> { call() }
            assertEquals("lock", error.what)
            assertEquals(unknown.toString(), error.id)
        }
    }

    @Test
    fun `instants outside 1970-9999 are InvalidInput`() {
        for (instant in listOf(
            Instant.parse("1900-01-01T00:00:00Z"),
            Instant.parse("1969-12-31T23:59:59Z"),
            Instant.parse("+10000-01-01T00:00:00Z"),
            Instant.MAX,
            Instant.MIN,
        )) {
            assertInvalidInput("instant", "outside the years 1970-9999") { client.codeWindow(code.id, instant, null) }
        }
        // The edges themselves are fine.
        client.codeWindow(code.id, Instant.EPOCH, null)
        client.codeWindow(code.id, Instant.parse("9999-12-31T23:59:59.999999999Z"), null)
    }

    @Test
    fun `wall-clock dates and times that do not exist are InvalidInput`() {
        assertInvalidInput("date", "2031-13-1 is not a date") {
            client.previewSchedule(lock.id, Schedule.Window(at(2031, 13, 1, 10), at(2031, 13, 2, 10)), false, null)
        }
        assertInvalidInput("date", "2031-2-30 is not a date") {
            client.createCode(
                lock.id,
                CodeRequest("Ghost", Schedule.OneTime(at(2031, 2, 30, 10), at(2031, 3, 2, 10)), PinChoice.Generate(null)),
            )
        }
        assertInvalidInput("time", "24:0 is not a time of day") {
            client.previewSchedule(lock.id, Schedule.Window(at(2031, 1, 1, 24), at(2031, 1, 2, 10)), false, null)
        }
        assertInvalidInput("time", "9:60 is not a time of day") {
            client.previewSchedule(
                lock.id,
                Schedule.Weekly(listOf(Weekday.MONDAY), time(9, 60), time(10), date(2031, 1, 1), date(2031, 2, 1)),
                false,
                null,
            )
        }
        assertInvalidInput("date", "2031-0-0 is not a date") {
            client.updateCode(code.id, CodeChanges(schedule = Schedule.Window(at(2031, 0, 0, 10), at(2031, 1, 2, 10))))
        }
        val old = assertThrows<TesseraException.InvalidSchedule> {
            client.previewSchedule(lock.id, Schedule.Window(at(1900, 1, 1, 10), at(1900, 1, 2, 10)), false, null)
        }
        assertEquals("1900-01-01 is outside the years 1970-9999", old.reason)
    }

    @Test
    fun `empty strings are refused with the field they came in`() {
        assertInvalidInput("label", "must not be empty") { client.createPermanent(lock, "") }
        assertInvalidInput("label", "must not be empty") { client.createPermanent(lock, " \t ") }
        assertInvalidInput("label", "must not be empty") { client.updateCode(code.id, CodeChanges(label = "")) }
        assertInvalidInput("lock name", "must not be empty") {
            client.addLock(NewLock("", "Europe/Berlin", defaultLockCapabilities()))
        }
        assertInvalidInput("lock name", "must not be empty") { client.renameLock(lock.id, "") }
        assertEquals("", assertThrows<TesseraException.UnknownTimeZone> {
            client.addLock(NewLock("Shed", "", defaultLockCapabilities()))
        }.zone)
        assertEquals("", assertThrows<TesseraException.UnknownTimeZone> {
            client.codeWindow(code.id, Instant.parse("2031-01-01T00:00:00Z"), "")
        }.zone)
        assertEquals("it is empty", assertThrows<TesseraException.InvalidPin> {
            client.createPermanent(lock, "Empty PIN", PinChoice.Chosen(""))
        }.reason)
        assertInvalidInput("data_dir", "must not be empty") {
            TesseraClient(ClientConfig(dataDir = ""), MemorySecureStore(), null)
        }
        assertInvalidInput("config", "\"\" is not a cloud address: relative URL without a base") {
            runBlocking { client.signUp("", "owner@example.com", PASSWORD, null) }
        }
    }

    @Test
    fun `megabyte strings are refused, not crashed on`() {
        assertInvalidInput("label", "longer than 80 characters") { client.createPermanent(lock, "a".repeat(megabyte)) }
        assertInvalidInput("lock name", "longer than 80 characters") {
            client.addLock(NewLock("b".repeat(megabyte), "Europe/Berlin", defaultLockCapabilities()))
        }
        assertInvalidInput("lock name", "longer than 80 characters") { client.renameLock(lock.id, "r".repeat(megabyte)) }

        val zone = "Europe/" + "Z".repeat(megabyte)
        // Errors quote at most 40 characters of what they refuse.
        val quoted = zone.take(40) + "…"
        assertEquals(quoted, assertThrows<TesseraException.UnknownTimeZone> {
            client.addLock(NewLock("Shed", zone, defaultLockCapabilities()))
        }.zone)
        assertEquals(quoted, assertThrows<TesseraException.UnknownTimeZone> {
            client.codeWindow(code.id, Instant.parse("2031-01-01T00:00:00Z"), zone)
        }.zone)
        assertEquals(quoted, assertThrows<TesseraException.UnknownTimeZone> {
            client.previewSchedule(lock.id, Schedule.Permanent, false, zone)
        }.zone)

        assertEquals("it is longer than 12 digits", assertThrows<TesseraException.InvalidPin> {
            client.createPermanent(lock, "Long PIN", PinChoice.Chosen("7".repeat(megabyte)))
        }.reason)
        assertInvalidInput("config", "a cloud address has at most 2048 characters") {
            runBlocking { client.logIn("https://" + "h".repeat(megabyte), "owner@example.com", PASSWORD, null) }
        }
    }

    @Test
    fun `other bad values get their own variants`() {
        assertEquals("it must contain digits only", assertThrows<TesseraException.InvalidPin> {
            client.createPermanent(lock, "Letters", PinChoice.Chosen("12ab56"))
        }.reason)
        val short = assertThrows<TesseraException.PinLength> {
            client.createPermanent(lock, "Short", PinChoice.Generate(3u))
        }
        assertEquals(Triple(3u, 4.toUByte(), 8.toUByte()), Triple(short.length, short.min, short.max))
        assertInvalidInput("label", "contains control characters") { client.createPermanent(lock, "a\u0000b") }
        assertInvalidInput("max codes", "must be at least 1") {
            client.addLock(NewLock("Shed", "Europe/Berlin", defaultLockCapabilities().copy(maxCodes = 0u)))
        }
        assertInvalidInput("PIN lengths", "9-3 is not within 1-12") {
            client.addLock(
                NewLock("Shed", "Europe/Berlin", defaultLockCapabilities().copy(minPinLength = 9u, maxPinLength = 3u)),
            )
        }
        assertEquals("a weekly schedule needs at least one weekday", assertThrows<TesseraException.InvalidSchedule> {
            client.previewSchedule(
                lock.id,
                Schedule.Weekly(emptyList(), time(9), time(10), date(2031, 1, 1), date(2031, 2, 1)),
                false,
                null,
            )
        }.reason)
        assertEquals("minutes after first use must be 1 to 527040", assertThrows<TesseraException.InvalidSchedule> {
            client.previewSchedule(lock.id, Schedule.ExpiringAfterFirstUse(0u, at(2031, 1, 1, 10), at(2031, 1, 2, 10)), false, null)
        }.reason)
        assertThrows<TesseraException.SignedOut> { runBlocking { client.sync() } }
    }
}
