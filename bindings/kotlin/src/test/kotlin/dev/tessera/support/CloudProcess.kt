package dev.tessera.support

import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ArrayBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/**
 * A real `tessera-cloud` process on a loopback port, with its database in [dir].
 * [stop] kills it (as a crash or a lost network would); [start] brings it back on the
 * same port with the same database. [close] kills it for good.
 */
class CloudProcess private constructor(private val dir: Path) : AutoCloseable {
    @Volatile
    private var process: Process? = null
    private var port = 0

    // Should the JVM end before close() (a crash, a kill), the cloud ends with it.
    private val reaper = thread(start = false, name = "tessera-cloud reaper") { process?.destroyForcibly() }

    init {
        Runtime.getRuntime().addShutdownHook(reaper)
    }

    val url: String
        get() = "http://127.0.0.1:$port"

    fun start() {
        check(process == null) { "the cloud is already running" }
        Files.createDirectories(dir)
        val log = dir.resolve("cloud.log").toFile()
        val started = ProcessBuilder(
            binary().path, "serve",
            "--bind", "127.0.0.1:$port",
            "--db", dir.resolve("cloud.db").toString(),
        )
            .redirectError(ProcessBuilder.Redirect.appendTo(log))
            .start()
        process = started
        val firstLine = ArrayBlockingQueue<String>(1)
        thread(isDaemon = true, name = "tessera-cloud stdout") {
            started.inputStream.bufferedReader().useLines { lines ->
                val iterator = lines.iterator()
                if (iterator.hasNext()) firstLine.put(iterator.next())
                // Keep draining so the cloud never blocks on a full pipe.
                iterator.forEachRemaining { }
            }
        }
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        var line: String? = null
        while (line == null && started.isAlive && System.nanoTime() < deadline) {
            line = firstLine.poll(100, TimeUnit.MILLISECONDS)
        }
        if (line == null) {
            stop()
            error("tessera-cloud did not say where it listens (port $port); its log:\n${log.readText().takeLast(4000)}")
        }
        val address = line.removePrefix("listening on http://")
        if (address == line) {
            stop()
            error("unexpected first line from tessera-cloud: $line")
        }
        port = address.substringAfterLast(':').toInt()
    }

    /** Kills the process and waits until it is gone; the port is kept for [start]. */
    fun stop() {
        val running = process ?: return
        process = null
        running.destroyForcibly()
        check(running.waitFor(30, TimeUnit.SECONDS)) { "tessera-cloud did not die" }
    }

    override fun close() {
        stop()
        Runtime.getRuntime().removeShutdownHook(reaper)
    }

    companion object {
        /** Starts a cloud on a free port with a fresh database in [dir]. */
        fun start(dir: Path): CloudProcess = CloudProcess(dir).apply { start() }

        /** `TESSERA_CLOUD_BIN`, else the `tessera.cloud.bin` property the pom sets. */
        fun binary(): File {
            val path = System.getenv("TESSERA_CLOUD_BIN")?.takeIf { it.isNotBlank() }
                ?: System.getProperty("tessera.cloud.bin")
                ?: "../../target/debug/tessera-cloud"
            return File(path).also {
                check(it.canExecute()) {
                    "no tessera-cloud at ${it.absolutePath}: cargo build -p tessera-cloud, or set TESSERA_CLOUD_BIN"
                }
            }
        }
    }
}
