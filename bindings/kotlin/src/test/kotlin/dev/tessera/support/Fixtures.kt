package dev.tessera.support

import dev.tessera.AccessCode
import dev.tessera.ClientConfig
import dev.tessera.CodeRequest
import dev.tessera.LocalDate
import dev.tessera.LocalDateTime
import dev.tessera.LocalTime
import dev.tessera.Lock
import dev.tessera.Logger
import dev.tessera.NewLock
import dev.tessera.PinChoice
import dev.tessera.Schedule
import dev.tessera.SecureStore
import dev.tessera.TesseraClient
import dev.tessera.defaultLockCapabilities
import java.nio.file.Files
import java.nio.file.Path
import kotlin.io.path.ExperimentalPathApi
import kotlin.io.path.deleteRecursively

/** The password test accounts use. */
const val PASSWORD = "correct horse battery staple"

/** A client on its own data folder inside [dir]. */
fun newClient(
    dir: Path,
    store: SecureStore = MemorySecureStore(),
    logger: Logger? = null,
): TesseraClient {
    Files.createDirectories(dir)
    return TesseraClient(ClientConfig(dataDir = dir.toString()), store, logger)
}

/** A lock in Berlin with the usual capabilities (4-8 digits, every kind, minutes). */
fun TesseraClient.addBerlinLock(name: String = "Front door", maxCodes: UInt? = null): Lock {
    val capabilities = defaultLockCapabilities().let { caps ->
        if (maxCodes == null) caps else caps.copy(maxCodes = maxCodes)
    }
    return addLock(NewLock(name = name, timeZone = "Europe/Berlin", capabilities = capabilities))
}

fun TesseraClient.createPermanent(lock: Lock, label: String, pin: PinChoice = PinChoice.Generate(8u)): AccessCode =
    createCode(lock.id, CodeRequest(label = label, schedule = Schedule.Permanent, pin = pin))

fun at(year: Int, month: Int, day: Int, hour: Int, minute: Int = 0) =
    LocalDateTime(year, month.toUByte(), day.toUByte(), hour.toUByte(), minute.toUByte())

fun date(year: Int, month: Int, day: Int) = LocalDate(year, month.toUByte(), day.toUByte())

fun time(hour: Int, minute: Int = 0) = LocalTime(hour.toUByte(), minute.toUByte())

/** A fresh temporary folder, removed by [TempDir.close]. */
class TempDir(prefix: String) : AutoCloseable {
    val path: Path = Files.createTempDirectory(prefix)

    fun resolve(name: String): Path = path.resolve(name)

    @OptIn(ExperimentalPathApi::class)
    override fun close() = path.deleteRecursively()
}
