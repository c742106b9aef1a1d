// The Kotlin side of the FFI benchmark: list the 1,000 codes of a lock through the
// generated bindings. A plain main, run by `scripts/test-kotlin --bench` (release
// library) in a JVM of its own; it prints exactly one line.
package dev.tessera.bench

import dev.tessera.ClientConfig
import dev.tessera.CodeRequest
import dev.tessera.NewLock
import dev.tessera.PinChoice
import dev.tessera.Schedule
import dev.tessera.TesseraClient
import dev.tessera.defaultLockCapabilities
import dev.tessera.support.MemorySecureStore
import java.nio.file.Files
import java.util.Locale
import kotlin.io.path.ExperimentalPathApi
import kotlin.io.path.deleteRecursively

private const val CODES = 1_000
private const val WARM_UP = 200

@OptIn(ExperimentalPathApi::class)
fun main(args: Array<String>) {
    val runs = args.firstOrNull()?.toInt() ?: 100
    val dir = Files.createTempDirectory("tessera-kotlin-bench")
    try {
        TesseraClient(ClientConfig(dataDir = dir.toString()), MemorySecureStore(), null).use { client ->
            val capabilities = defaultLockCapabilities().copy(maxCodes = 2_000u)
            val lock = client.addLock(NewLock("Bench", "Europe/Berlin", capabilities))
            repeat(CODES) { i ->
                client.createCode(lock.id, CodeRequest("Guest $i", Schedule.Permanent, PinChoice.Generate(8u)))
            }
            check(client.codes(lock.id).size == CODES)

            repeat(WARM_UP) { client.codes(lock.id) }
            val millis = DoubleArray(runs) {
                val start = System.nanoTime()
                val codes = client.codes(lock.id)
                val elapsed = System.nanoTime() - start
                check(codes.size == CODES)
                elapsed / 1e6
            }
            millis.sort()
            val median = if (runs % 2 == 1) millis[runs / 2] else (millis[runs / 2 - 1] + millis[runs / 2]) / 2
            println(String.format(Locale.ROOT, "kotlin  list %d codes: median %.3f ms (n=%d)", CODES, median, runs))
        }
    } finally {
        dir.deleteRecursively()
    }
}
