// What the local-lock tests share: a real `tessera-lock serve` process on a loopback
// port with its control socket (the keypad), and a BleTransport written in Swift that
// reaches the lock over a TCP socket standing in for the GATT link.

import Foundation
import Tessera
import Testing

#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
private let sendFlags = Int32(MSG_NOSIGNAL)
private func connectSocket(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    Glibc.connect(fd, address, length)
}
private func closeSocket(_ fd: Int32) {
    _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    _ = Glibc.close(fd)
}
#elseif canImport(Darwin)
import Darwin
private let streamSocket = SOCK_STREAM
private let sendFlags: Int32 = 0
private func connectSocket(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    Darwin.connect(fd, address, length)
}
private func closeSocket(_ fd: Int32) {
    _ = Darwin.shutdown(fd, SHUT_RDWR)
    _ = Darwin.close(fd)
}
#endif

/// The setup code the test locks print on their label.
let setupCode = "12345678"

/// A `tessera-lock serve` process on a loopback port, not announced over mDNS (phones
/// reach it by `address`), with its control socket for `keypad`.
final class LockProcess {
    let dir: URL
    let control: String
    private(set) var address = ""
    private var process: Process?

    private init(dir: URL) {
        self.dir = dir
        // A Unix socket's path must stay short.
        control = "/tmp/tl-\(UUID().uuidString.prefix(8).lowercased()).sock"
    }

    /// `TESSERA_LOCK_BIN` (set by scripts/test-swift), else the debug build.
    static var binary: URL { builtBinary("TESSERA_LOCK_BIN", "tessera-lock") }

    static func start(in dir: URL, name: String, zone: String = "Europe/Berlin") async throws -> LockProcess {
        let lock = LockProcess(dir: dir)
        try await lock.start(name: name, zone: zone)
        return lock
    }

    private func start(name: String, zone: String) async throws {
        let line = try await startProcess(
            Self.binary,
            [
                "serve", "--bind", "127.0.0.1:0", "--no-announce", "--control", control,
                "--setup-code", setupCode, "--state", dir.appendingPathComponent("lock-\(name)").path,
                "--name", name, "--zone", zone,
            ],
            stdout: dir.appendingPathComponent("lock-\(name).out"),
            stderr: dir.appendingPathComponent("lock-\(name).err"),
            name: "tessera-lock", started: { self.process = $0 }, stop: stop)
        let prefix = "listening on "
        guard line.hasPrefix(prefix) else {
            stop()
            throw PlatformFailure(description: "tessera-lock printed \(line.debugDescription)")
        }
        address = String(line.dropFirst(prefix.count))
    }

    /// Types `digits` and Enter on the keypad: `open`, `refused` or `locked out ...`.
    func keypad(_ digits: String) throws -> String {
        let run = Process()
        run.executableURL = Self.binary
        run.arguments = ["keypad", "--control", control, digits]
        let output = Pipe()
        run.standardOutput = output
        run.standardError = output
        try run.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        run.waitUntilExit()
        let answer = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard run.terminationStatus == (answer == "open" ? 0 : 1) else {
            throw PlatformFailure(description: "keypad exited \(run.terminationStatus): \(answer)")
        }
        return answer
    }

    func stop() {
        guard let process else { return }
        self.process = nil
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: control)
    }

    deinit {
        stop()
    }
}

/// A TCP connection to `address` (`127.0.0.1:PORT`); the file descriptor.
private func openTcp(_ address: String) throws -> Int32 {
    let parts = address.split(separator: ":")
    guard parts.count == 2, let port = UInt16(parts[1]) else {
        throw BleError.Failed(reason: "bad address \(address)")
    }
    let fd = socket(AF_INET, streamSocket, 0)
    guard fd >= 0 else { throw BleError.Failed(reason: "socket() failed: \(errno)") }
    var peer = sockaddr_in()
    peer.sin_family = sa_family_t(AF_INET)
    peer.sin_port = port.bigEndian
    _ = inet_pton(AF_INET, String(parts[0]), &peer.sin_addr)
    let result = withUnsafePointer(to: &peer) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connectSocket(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 else {
        closeSocket(fd)
        throw BleError.Failed(reason: "connect() to \(address) failed: \(errno)")
    }
    return fd
}

/// The app's Bluetooth, written in Swift: each "device" is a lock reached over a TCP
/// socket standing in for the GATT link (writes go to the socket; what the lock sends
/// comes back as notifications of at most `mtu` bytes). Records every call.
final class TcpBleTransport: BleTransport, @unchecked Sendable {
    // Immutable after init, or behind `state`'s lock: hence `@unchecked`.
    let devices: [String: String]
    let mtu: Int
    private let state = Locked<(calls: [String], writes: [Int], sockets: [String: Int32])>(([], [], [:]))

    init(devices: [String: String], mtu: Int = 20) {
        self.devices = devices
        self.mtu = mtu
    }

    var calls: [String] { state.withLock { $0.calls } }
    /// The length of every write.
    var writes: [Int] { state.withLock { $0.writes } }

    func count(_ call: String) -> Int { calls.filter { $0 == call }.count }

    func scan(timeoutMs: UInt64) throws -> [BleDevice] {
        state.withLock { $0.calls.append("scan") }
        return devices.keys.sorted().map { BleDevice(id: $0, name: "Tessera lock", lockId: nil, rssi: -60) }
    }

    func connect(deviceId: String, inbox: BleInbox) throws -> UInt32 {
        state.withLock { $0.calls.append("connect") }
        guard let address = devices[deviceId] else { throw BleError.Failed(reason: "no device \(deviceId)") }
        let fd = try openTcp(address)
        state.withLock { $0.sockets[deviceId] = fd }
        let mtu = self.mtu
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 {
                    inbox.closed()
                    return
                }
                var at = 0
                while at < n {
                    let end = min(n, at + mtu)
                    inbox.deliver(bytes: Data(buffer[at..<end]))
                    at = end
                }
            }
        }
        reader.start()
        return UInt32(mtu)
    }

    func write(deviceId: String, bytes: Data) throws {
        guard bytes.count <= mtu else { throw BleError.Failed(reason: "a write of \(bytes.count) bytes") }
        let fd = state.withLock { state -> Int32? in
            state.writes.append(bytes.count)
            return state.sockets[deviceId]
        }
        guard let fd else { throw BleError.Failed(reason: "\(deviceId) is not connected") }
        var sent = 0
        let all = [UInt8](bytes)
        while sent < all.count {
            let n = all[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, sendFlags) }
            guard n > 0 else { throw BleError.Failed(reason: "send() failed: \(errno)") }
            sent += n
        }
    }

    func disconnect(deviceId: String) throws {
        let fd = state.withLock { state -> Int32? in
            state.calls.append("disconnect")
            return state.sockets.removeValue(forKey: deviceId)
        }
        if let fd {
            closeSocket(fd)
        }
    }
}
