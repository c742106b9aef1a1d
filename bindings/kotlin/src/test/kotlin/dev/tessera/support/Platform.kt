package dev.tessera.support

import dev.tessera.AccessCode
import dev.tessera.CodesListener
import dev.tessera.LogRecord
import dev.tessera.Logger
import dev.tessera.SecureStore
import dev.tessera.SyncStatus
import dev.tessera.SyncStatusListener
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull

/** The platform's keychain, as a map in memory. */
class MemorySecureStore : SecureStore {
    val entries = ConcurrentHashMap<String, ByteArray>()

    override fun get(key: String): ByteArray? = entries[key]?.copyOf()

    override fun put(key: String, value: ByteArray) {
        entries[key] = value.copyOf()
    }

    override fun delete(key: String) {
        entries.remove(key)
    }
}

/** Every record the core logs, kept for inspection. */
class CollectingLogger : Logger {
    val records = CopyOnWriteArrayList<LogRecord>()

    override fun log(record: LogRecord) {
        records += record
    }
}

/**
 * Values a listener was called with, in order, awaited with a timeout: never a
 * blind sleep.
 */
class Recorder<T>(private val name: String) {
    private val values = Channel<T>(Channel.UNLIMITED)

    @Volatile
    private var last: T? = null

    /** How many times the listener was called. */
    val calls = AtomicInteger()

    fun record(value: T) {
        calls.incrementAndGet()
        values.trySend(value)
    }

    /** The next value, or fails after [timeout]. */
    fun next(timeout: Duration = 10.seconds): T = awaitMatching(timeout) { true }

    /** Skips values until one matches [predicate]; fails after [timeout]. */
    fun awaitMatching(timeout: Duration = 10.seconds, predicate: (T) -> Boolean): T = runBlocking {
        withTimeoutOrNull(timeout) {
            var value: T
            do {
                value = values.receive()
                last = value
            } while (!predicate(value))
            value
        } ?: throw AssertionError("$name: no matching call within $timeout (last one: $last)")
    }

    /** Values that arrived and were not taken yet. */
    fun drain(): List<T> = generateSequence { values.tryReceive().getOrNull() }.toList()
}

/** A [CodesListener] that records every list it hears. */
class RecordingCodesListener(name: String = "codes listener") : CodesListener {
    val recorder = Recorder<List<AccessCode>>(name)

    override fun onCodes(codes: List<AccessCode>) = recorder.record(codes)
}

/** A [SyncStatusListener] that records every status it hears. */
class RecordingSyncStatusListener : SyncStatusListener {
    val recorder = Recorder<SyncStatus>("sync status listener")

    override fun onSyncStatus(status: SyncStatus) = recorder.record(status)
}
