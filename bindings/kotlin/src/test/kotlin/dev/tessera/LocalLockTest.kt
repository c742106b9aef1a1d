package dev.tessera

import dev.tessera.support.LockProcess
import dev.tessera.support.MemorySecureStore
import dev.tessera.support.SETUP_CODE
import dev.tessera.support.TcpBleTransport
import dev.tessera.support.at
import dev.tessera.support.newClient
import java.nio.file.Path
import java.time.Instant
import java.time.ZoneId
import java.time.ZonedDateTime
import java.time.temporal.ChronoUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * Locally connected locks through the FFI, against real `tessera-lock` processes:
 * pairing (and a wrong setup code), a window code delivered over the local route that
 * opens the lock's keypad, an offline code opening it with no network, and a
 * [BleTransport] written in Kotlin carrying the protocol end to end.
 */
class LocalLockTest {
    @TempDir
    lateinit var dir: Path

    private val berlin: ZoneId = ZoneId.of("Europe/Berlin")

    /** A window code open from the last full hour (Berlin time) for four hours. */
    private fun TesseraClient.windowNow(lockId: java.util.UUID, label: String): AccessCode {
        val start = ZonedDateTime.now(berlin).truncatedTo(ChronoUnit.HOURS).minusHours(1)
        val end = start.plusHours(4)
        val schedule = Schedule.Window(
            start = at(start.year, start.monthValue, start.dayOfMonth, start.hour),
            end = at(end.year, end.monthValue, end.dayOfMonth, end.hour),
        )
        return createCode(lockId, CodeRequest(label, schedule, PinChoice.Generate(null)))
    }

    @Test
    fun `pair, deliver a window code and an offline code, both open the keypad`() {
        LockProcess.start(dir.resolve("lock"), "Front door").use { lock ->
            val store = MemorySecureStore()
            newClient(dir.resolve("phone"), store).use { client ->
                val refused = assertThrows<TesseraException.PairingRefused> {
                    runBlocking { client.pairLock(lock.address, "87654321") }
                }
                assertNotNull(refused)
                assertTrue(client.locks().isEmpty())
                val empty = assertThrows<TesseraException.InvalidInput> {
                    runBlocking { client.pairLock(lock.address, "") }
                }
                assertEquals("setup_code", empty.field)

                val paired = runBlocking { client.pairLock(lock.address, SETUP_CODE) }
                assertTrue(paired.added && paired.offlineCodes)
                assertEquals("Front door", paired.lock.name)
                assertEquals("Europe/Berlin", paired.lock.timeZone)
                assertEquals(paired.lock.id, paired.info.lockId)
                assertEquals(lock.address, client.localRoute(paired.lock.id)?.address)

                val code = client.windowNow(paired.lock.id, "Anna")
                val pin = client.revealPin(code.id)
                val delivery = runBlocking { client.deliver(paired.lock.id) }
                assertEquals(DeliveryRoute.LOCAL, delivery.route)
                assertEquals(1u, delivery.local?.set)
                assertTrue(client.code(code.id).sync is CodeSync.SetOnLock)
                assertEquals("open", lock.keypad(pin))

                val offline = client.issueOfflineCode(
                    paired.lock.id,
                    OfflineCodeRequest(offlineClass = OfflineClass.HOURS4, label = "Courier"),
                )
                val digits = offline.pin.digits()
                assertEquals(paired.info.offlineDigits, offline.pinLength)
                assertEquals(digits.length, offline.pinLength.toInt())
                assertTrue(offline.start <= Instant.now() && Instant.now() < offline.end)
                assertTrue(offline.firstUseBy > offline.start)
                assertFalse(offline.toString().contains(digits)) { "the PIN in toString()" }
                assertEquals("open", lock.keypad(digits))

                val epoch = runBlocking { client.rotateOfflineEpoch(paired.lock.id) }
                assertEquals(paired.info.epoch + 1u, epoch)
                assertEquals("refused", lock.keypad(digits))
                assertNull(client.offlineCodes(paired.lock.id).single().pin)

                val events = runBlocking { client.readLockEvents(paired.lock.id) }.map { it.activity }
                assertTrue(LockActivity.PairingFailed in events)
                assertTrue(LockActivity.CodeUsed(code.id) in events)
                assertTrue(events.any { it is LockActivity.OfflineCodeUsed && it.offlineClass == OfflineClass.HOURS4 })
            }
        }
    }

    @Test
    fun `a Bluetooth transport written in Kotlin carries pairing and codes`() {
        LockProcess.start(dir.resolve("lock"), "Back door").use { lock ->
            newClient(dir.resolve("phone")).use { client ->
                val device = "AA:BB:CC:00:00:01"
                val none = assertThrows<TesseraException.Bluetooth> {
                    runBlocking { client.pairLockBle(device, SETUP_CODE) }
                }
                assertNotNull(none)
                val ble = TcpBleTransport(mapOf(device to lock.address), mtu = 20)
                client.setBleTransport(ble)

                val found = runBlocking {
                    client.discoverLocks(DiscoveryOptions(timeoutMs = 300uL, mdns = false, bluetooth = true))
                }
                assertEquals(listOf(LockRoute.Bluetooth(device)), found.locks.single().routes)
                assertNull(found.locks.single().lockId)

                val paired = runBlocking { client.pairLockBle(device, SETUP_CODE) }
                assertEquals("Back door", paired.lock.name)
                val route = client.localRoute(paired.lock.id)
                assertEquals(device, route?.bleDevice)
                assertNull(route?.address)
                assertTrue(ble.writes.size > 1 && ble.writes.all { it.size <= 20 })

                val code = client.windowNow(paired.lock.id, "Bluetooth guest")
                val delivery = runBlocking { client.deliver(paired.lock.id) }
                assertEquals(DeliveryRoute.LOCAL, delivery.route)
                assertEquals("open", lock.keypad(client.revealPin(code.id)))
                assertEquals(ble.count("connect"), ble.count("disconnect"))

                val offline = client.issueOfflineCode(
                    paired.lock.id,
                    OfflineCodeRequest(offlineClass = OfflineClass.HOURS2, label = "Courier"),
                )
                assertEquals("open", lock.keypad(offline.pin.digits()))
                client.setBleTransport(null)
            }
        }
    }
}
