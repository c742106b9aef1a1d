package dev.tessera

import dev.tessera.support.CloudProcess
import dev.tessera.support.CollectingLogger
import dev.tessera.support.MemorySecureStore
import dev.tessera.support.PASSWORD
import dev.tessera.support.Recorder
import dev.tessera.support.addBerlinLock
import dev.tessera.support.at
import dev.tessera.support.createPermanent
import dev.tessera.support.newClient
import java.nio.file.Path
import java.util.UUID
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * Secrets stay out of what the app can print: the log the core forwards, error
 * messages and the records' toString().
 */
class SecretsTest {
    @TempDir
    lateinit var dir: Path

    /** The session's tokens, read from where the core keeps them: the secure store. */
    private fun tokens(store: MemorySecureStore): List<String> {
        val session = String(store.entries.getValue("tessera.session"))
        return Regex("\"(ts[ar]_[A-Za-z0-9_-]+)\"").findAll(session).map { it.groupValues[1] }.toList()
    }

    @Test
    fun `the log, errors and records never carry the password, tokens or a PIN`() {
        val logger = CollectingLogger()
        val store = MemorySecureStore()
        val email = "secrets-${UUID.randomUUID()}@example.com"
        val pins = mutableListOf<String>()
        val tokens = mutableListOf<String>()
        val messages = mutableListOf<String>()

        CloudProcess.start(dir.resolve("cloud")).use { cloud ->
            newClient(dir.resolve("phone"), store, logger).use { phone ->
                runBlocking { phone.signUp(cloud.url, email, PASSWORD, "Kotlin phone") }
                tokens += tokens(store)
                assertEquals(listOf("tsa_", "tsr_"), tokens.map { it.take(4) }.sorted())

                val lock = phone.addBerlinLock()
                val chosen = phone.createPermanent(lock, "Family", PinChoice.Chosen("482916"))
                val generated = phone.createCode(
                    lock.id,
                    CodeRequest("Anna", Schedule.Window(at(2031, 3, 30, 2, 30), at(2031, 3, 30, 12)), PinChoice.Generate(8u)),
                )
                pins += listOf(chosen, generated).map { phone.revealPin(it.id) }
                assertEquals("482916", pins[0])
                for (code in phone.codes(lock.id)) {
                    val text = code.toString()
                    assertTrue(text.startsWith("AccessCode(id=${code.id}, ")) { text }
                    pins.forEach { pin -> assertFalse(text.contains(pin)) { "$text shows $pin" } }
                }

                // A listener that fails makes the core log a warning with its error.
                val warned = Recorder<List<AccessCode>>("failing listener")
                phone.observeCodes(lock.id, object : CodesListener {
                    override fun onCodes(codes: List<AccessCode>) {
                        warned.record(codes)
                        throw IllegalStateException("cannot show ${codes.size} codes")
                    }
                }).use { warned.next() }

                runBlocking { phone.sync() }
                tokens += tokens(store)

                // A wrong password, and the right one on a second device.
                newClient(dir.resolve("tablet")).use { tablet ->
                    messages += assertThrows<TesseraException.InvalidCredentials> {
                        runBlocking { tablet.logIn(cloud.url, email, "wrong $PASSWORD", null) }
                    }.toString()
                    runBlocking { tablet.logIn(cloud.url, email, PASSWORD, null) }
                    runBlocking { tablet.sync() }
                    assertEquals(pins, phone.codes(lock.id).map { tablet.revealPin(it.id) })
                }

                // Offline: the errors name the network, not the session.
                cloud.stop()
                messages += assertThrows<TesseraException.Offline> { runBlocking { phone.sync() } }.toString()
                messages += assertThrows<TesseraException.PinConflict> {
                    phone.createPermanent(lock, "Again", PinChoice.Chosen("482916"))
                }.toString()
                // Logging out while the cloud is away: the core logs that it could not tell it.
                runBlocking { phone.logOut() }
                assertFalse(store.entries.containsKey("tessera.session"))
            }
        }

        val log = logger.records.toList()
        assertTrue(log.any { it.level == LogLevel.WARN && it.message.contains("a codes listener failed") }) { "$log" }
        assertTrue(log.any { it.target.startsWith("tessera_core") }) { "$log" }
        val texts = log.map { "${it.target} ${it.message}" } + messages
        for (text in texts) {
            assertFalse(text.contains(PASSWORD), text)
            tokens.forEach { token -> assertFalse(text.contains(token.drop(4)), "$text shows a token") }
            pins.forEach { pin -> assertFalse(text.contains(pin), "$text shows PIN $pin") }
            Regex("ts[ard]_[A-Za-z0-9]").find(text)?.let { throw AssertionError("a token in: $text") }
        }
    }
}
