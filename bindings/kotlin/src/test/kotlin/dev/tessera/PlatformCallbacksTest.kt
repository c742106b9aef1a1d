package dev.tessera

import dev.tessera.support.MemorySecureStore
import dev.tessera.support.Recorder
import dev.tessera.support.RecordingCodesListener
import dev.tessera.support.addBerlinLock
import dev.tessera.support.createPermanent
import dev.tessera.support.newClient
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * What the platform plugs in (secure store, listeners, logger) may fail: the core
 * turns that into typed errors or shrugs it off, and never crashes. Listener handles
 * and objects close like any AutoCloseable.
 */
class PlatformCallbacksTest {
    @TempDir
    lateinit var dir: Path

    private class FailingSecureStore(
        private val failGet: Exception? = null,
        private val failPut: Exception? = null,
    ) : SecureStore {
        val inner = MemorySecureStore()

        override fun get(key: String): ByteArray? = failGet?.let { throw it } ?: inner.get(key)

        override fun put(key: String, value: ByteArray) = failPut?.let { throw it } ?: inner.put(key, value)

        override fun delete(key: String) = inner.delete(key)
    }

    @Test
    fun `a secure store that throws from get makes the constructor throw SecureStore`() {
        val store = FailingSecureStore(failGet = RuntimeException("keychain locked"))
        val error = assertThrows<TesseraException.SecureStore> { newClient(dir.resolve("a"), store) }
        // An undeclared exception arrives with its stack trace, for the app's crash log.
        assertTrue(error.reason.startsWith("java.lang.RuntimeException: keychain locked")) { error.reason }
    }

    @Test
    fun `a secure store that fails to put reports its own reason`() {
        val store = FailingSecureStore(failPut = SecureStoreException.Failed("keystore full"))
        val error = assertThrows<TesseraException.SecureStore> { newClient(dir.resolve("b"), store) }
        assertEquals("keystore full", error.reason)
        assertEquals(emptyMap<String, ByteArray>(), store.inner.entries)
    }

    @Test
    fun `the store key lives in the secure store, so the same store reopens and an empty or wrong one does not`() {
        val store = MemorySecureStore()
        val made = newClient(dir.resolve("c"), store).use { client ->
            val lock = client.addBerlinLock()
            client.createPermanent(lock, "Family", PinChoice.Chosen("482916")).also {
                assertEquals("482916", client.revealPin(it.id))
            }
        }
        newClient(dir.resolve("c"), store).use { client ->
            assertEquals(listOf(made), client.codes(made.lockId))
            assertEquals("482916", client.revealPin(made.id))
        }

        val missing = assertThrows<TesseraException.Storage> { newClient(dir.resolve("c"), MemorySecureStore()) }
        assertEquals("store_key_missing", missing.code)

        val wrong = MemorySecureStore().apply { put("tessera.store-key", ByteArray(32) { 7 }) }
        assertEquals("wrong_key", assertThrows<TesseraException.Storage> { newClient(dir.resolve("c"), wrong) }.code)
        val short = MemorySecureStore().apply { put("tessera.store-key", ByteArray(5)) }
        assertEquals("wrong_key", assertThrows<TesseraException.Storage> { newClient(dir.resolve("c"), short) }.code)
    }

    @Test
    fun `a listener that throws on every call keeps being called and the client keeps working`() {
        newClient(dir.resolve("d")).use { client ->
            val lock = client.addBerlinLock()
            val heard = Recorder<List<AccessCode>>("throwing listener")
            val declared = Recorder<List<AccessCode>>("listener failing with ListenerException")
            val throwing = object : CodesListener {
                override fun onCodes(codes: List<AccessCode>) {
                    heard.record(codes)
                    throw IllegalStateException("the UI is gone")
                }
            }
            val failing = object : CodesListener {
                override fun onCodes(codes: List<AccessCode>) {
                    declared.record(codes)
                    throw ListenerException.Failed("cannot draw")
                }
            }
            val handles = listOf(client.observeCodes(lock.id, throwing), client.observeCodes(lock.id, failing))

            assertEquals(emptyList<AccessCode>(), heard.next())
            assertEquals(emptyList<AccessCode>(), declared.next())
            val ids = mutableListOf<java.util.UUID>()
            repeat(3) { i ->
                ids += client.createPermanent(lock, "Guest $i").id
                assertEquals(ids, heard.awaitMatching { it.size == ids.size }.map { it.id })
                assertEquals(ids, declared.awaitMatching { it.size == ids.size }.map { it.id })
            }
            assertEquals(ids, client.codes(lock.id).map { it.id })
            handles.forEach { it.close() }
        }
    }

    @Test
    fun `a sync status listener that throws is called again on the next change`() {
        newClient(dir.resolve("e")).use { client ->
            val heard = Recorder<SyncStatus>("throwing status listener")
            val handle = client.observeSyncStatus(object : SyncStatusListener {
                override fun onSyncStatus(status: SyncStatus) {
                    heard.record(status)
                    throw UnsupportedOperationException("no status bar")
                }
            })
            assertEquals(SyncStatus(SyncActivity.SignedOut, 0u, null), heard.next())
            client.addBerlinLock()
            assertEquals(SyncStatus(SyncActivity.SignedOut, 1u, null), heard.awaitMatching { it.pending == 1u })
            handle.cancel()
        }
    }

    @Test
    fun `a logger that throws is ignored`() {
        val calls = AtomicInteger()
        val records = Recorder<LogRecord>("throwing logger")
        val logger = object : Logger {
            override fun log(record: LogRecord) {
                calls.incrementAndGet()
                records.record(record)
                throw IllegalStateException("logcat is full")
            }
        }
        newClient(dir.resolve("f"), logger = logger).use { client ->
            val lock = client.addBerlinLock()
            // A failing listener is something the core logs (a warning).
            val handle = client.observeCodes(lock.id, object : CodesListener {
                override fun onCodes(codes: List<AccessCode>) = throw IllegalStateException("listener down")
            })
            val warning = records.awaitMatching { it.message.contains("a codes listener failed") }
            assertEquals(LogLevel.WARN, warning.level)
            assertEquals("tessera_ffi::client", warning.target)
            assertTrue(warning.message.contains("java.lang.IllegalStateException: listener down")) { warning.message }

            client.createPermanent(lock, "Guest")
            records.awaitMatching { it.message.contains("a codes listener failed") }
            assertEquals(1, client.codes(lock.id).size)
            assertTrue(calls.get() >= 2)
            handle.close()
        }
    }

    @Test
    fun `a cancelled listener hears nothing more`() {
        newClient(dir.resolve("g")).use { client ->
            val lock = client.addBerlinLock()
            val cancelled = RecordingCodesListener("cancelled")
            val witness = RecordingCodesListener("witness")
            val handle = client.observeCodes(lock.id, cancelled)
            val witnessHandle = client.observeCodes(lock.id, witness)
            assertEquals(emptyList<AccessCode>(), cancelled.recorder.next())
            assertEquals(emptyList<AccessCode>(), witness.recorder.next())
            val first = client.createPermanent(lock, "Before")
            assertEquals(listOf(first), cancelled.recorder.next())
            assertEquals(listOf(first), witness.recorder.next())

            assertFalse(handle.isCancelled())
            handle.cancel()
            assertTrue(handle.isCancelled())
            handle.cancel() // twice is harmless

            val second = client.createPermanent(lock, "After")
            // The witness, subscribed later, hears the change: the cancelled one had its chance.
            assertEquals(listOf(first, second), witness.recorder.next())
            assertEquals(emptyList<List<AccessCode>>(), cancelled.recorder.drain())
            assertEquals(2, cancelled.recorder.calls.get())
            handle.close()
            witnessHandle.close()
        }
    }

    @Test
    fun `closing a handle with use {} stops its listener, and a closed client refuses calls`() {
        val client = newClient(dir.resolve("h"))
        val lock = client.addBerlinLock()
        val closed = RecordingCodesListener("closed")
        val witness = RecordingCodesListener("witness")
        client.observeCodes(lock.id, closed).use {
            assertEquals(emptyList<AccessCode>(), closed.recorder.next())
        }
        client.observeCodes(lock.id, witness).use {
            assertEquals(emptyList<AccessCode>(), witness.recorder.next())
            val code = client.createPermanent(lock, "Guest")
            assertEquals(listOf(code), witness.recorder.next())
        }
        assertEquals(emptyList<List<AccessCode>>(), closed.recorder.drain())

        client.use { assertEquals(1, it.codes(lock.id).size) }
        val error = assertThrows<IllegalStateException> { client.locks() }
        assertEquals("TesseraClient object has already been destroyed", error.message)
    }
}
