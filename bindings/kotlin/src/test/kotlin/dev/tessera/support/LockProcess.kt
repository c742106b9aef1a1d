package dev.tessera.support

import dev.tessera.BleDevice
import dev.tessera.BleException
import dev.tessera.BleInbox
import dev.tessera.BleTransport
import java.io.File
import java.net.InetSocketAddress
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ArrayBlockingQueue
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/** The setup code the test locks print on their label. */
const val SETUP_CODE = "12345678"

/**
 * A real `tessera-lock serve` process on a loopback port, not announced over mDNS
 * (phones reach it by [address]), with its control socket for the [keypad].
 */
class LockProcess private constructor(private val dir: Path, name: String, zone: String) : AutoCloseable {
    // A Unix socket's path must stay short: the control socket lives in its own temp folder.
    private val controlDir: Path = Files.createTempDirectory("tl-")
    private val control: Path = controlDir.resolve("control")
    private val process: Process
    val address: String

    // Should the JVM end before close(), the lock ends with it.
    private val reaper = thread(start = false, name = "tessera-lock reaper") { process.destroyForcibly() }

    init {
        Files.createDirectories(dir)
        val log = dir.resolve("lock.log").toFile()
        process = ProcessBuilder(
            binary().path, "serve",
            "--bind", "127.0.0.1:0",
            "--no-announce",
            "--control", control.toString(),
            "--setup-code", SETUP_CODE,
            "--state", dir.resolve("state").toString(),
            "--name", name,
            "--zone", zone,
        )
            .redirectError(ProcessBuilder.Redirect.appendTo(log))
            .start()
        Runtime.getRuntime().addShutdownHook(reaper)
        val firstLine = ArrayBlockingQueue<String>(1)
        thread(isDaemon = true, name = "tessera-lock stdout") {
            process.inputStream.bufferedReader().useLines { lines ->
                val iterator = lines.iterator()
                if (iterator.hasNext()) firstLine.put(iterator.next())
                iterator.forEachRemaining { }
            }
        }
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        var line: String? = null
        while (line == null && process.isAlive && System.nanoTime() < deadline) {
            line = firstLine.poll(100, TimeUnit.MILLISECONDS)
        }
        if (line == null || !line.startsWith("listening on ")) {
            close()
            error("tessera-lock did not say where it listens ($line); its log:\n${log.readText().takeLast(4000)}")
        }
        address = line.removePrefix("listening on ")
    }

    /** Types [digits] and Enter on the keypad: `open`, `refused` or `locked out until ...`. */
    fun keypad(digits: String): String {
        val run = ProcessBuilder(binary().path, "keypad", "--control", control.toString(), digits)
            .redirectErrorStream(true)
            .start()
        val answer = run.inputStream.bufferedReader().readText().trim()
        check(run.waitFor(30, TimeUnit.SECONDS)) { "tessera-lock keypad did not finish" }
        check(run.exitValue() == (if (answer == "open") 0 else 1)) { "keypad exit ${run.exitValue()}: $answer" }
        return answer
    }

    override fun close() {
        process.destroyForcibly()
        process.waitFor(30, TimeUnit.SECONDS)
        runCatching { Runtime.getRuntime().removeShutdownHook(reaper) }
        controlDir.toFile().deleteRecursively()
    }

    companion object {
        /** Starts a lock with its state in [dir] (setup code [SETUP_CODE]). */
        fun start(dir: Path, name: String = "Front door", zone: String = "Europe/Berlin") = LockProcess(dir, name, zone)

        /** `TESSERA_LOCK_BIN`, else target/debug/tessera-lock of the repository. */
        fun binary(): File {
            val path = System.getenv("TESSERA_LOCK_BIN")?.takeIf { it.isNotBlank() }
                ?: "../../target/debug/tessera-lock"
            return File(path).also {
                check(it.canExecute()) {
                    "no tessera-lock at ${it.absolutePath}: cargo build -p tessera-lock, or set TESSERA_LOCK_BIN"
                }
            }
        }
    }
}

/**
 * The app's Bluetooth, written in Kotlin: each "device" is a lock reached over a TCP
 * socket standing in for the GATT link (writes go to the socket; what the lock sends
 * comes back as notifications of at most [mtu] bytes). Records every call.
 */
class TcpBleTransport(private val devices: Map<String, String>, private val mtu: Int = 20) : BleTransport {
    val calls = CopyOnWriteArrayList<String>()
    val writes = CopyOnWriteArrayList<ByteArray>()
    private val sockets = ConcurrentHashMap<String, Socket>()

    override fun scan(timeoutMs: ULong): List<BleDevice> {
        calls += "scan"
        return devices.keys.map { BleDevice(id = it, name = "Tessera lock", lockId = null, rssi = -60) }
    }

    override fun connect(deviceId: String, inbox: BleInbox): UInt {
        calls += "connect"
        val address = devices[deviceId] ?: throw BleException.Failed("no device $deviceId")
        val socket = Socket()
        val peer = InetSocketAddress(address.substringBeforeLast(':'), address.substringAfterLast(':').toInt())
        socket.connect(peer, 10_000)
        socket.tcpNoDelay = true
        sockets[deviceId] = socket
        thread(isDaemon = true, name = "ble-$deviceId") {
            val buffer = ByteArray(4096)
            val input = socket.getInputStream()
            while (true) {
                val n = try {
                    input.read(buffer)
                } catch (_: java.io.IOException) {
                    -1
                }
                if (n < 0) {
                    inbox.closed()
                    inbox.close()
                    return@thread
                }
                var at = 0
                while (at < n) {
                    val end = minOf(n, at + mtu)
                    inbox.deliver(buffer.copyOfRange(at, end))
                    at = end
                }
            }
        }
        return mtu.toUInt()
    }

    override fun write(deviceId: String, bytes: ByteArray) {
        check(bytes.size <= mtu) { "a write of ${bytes.size} bytes on a $mtu-byte link" }
        writes += bytes.copyOf()
        val socket = sockets[deviceId] ?: throw BleException.Failed("$deviceId is not connected")
        socket.getOutputStream().write(bytes)
        socket.getOutputStream().flush()
    }

    override fun disconnect(deviceId: String) {
        calls += "disconnect"
        sockets.remove(deviceId)?.close()
    }

    fun count(call: String) = calls.count { it == call }
}
