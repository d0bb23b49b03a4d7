// What WebSocket and WebSocketServer add to ws: the heartbeat (pingInterval,
// pongTimeout), backpressure (highWaterMark, lowWaterMark, backpressured,
// drained, maxBufferedAmount), reconnection (options.reconnect) and
// broadcast() with a policy for slow connections.
import QtQml
import QtQuick
import QtTest
import WsQt
import WsQtTestPeer
import "helpers.js" as Helpers

TestCase {
    id: testCase
    name: "Beyond"

    CppPeer { id: peer }

    Component {
        id: socketComponent
        WebSocket { }
    }

    Component {
        id: serverComponent
        WebSocketServer { host: "127.0.0.1" }
    }

    // Every new setting written the declarative way.
    Component {
        id: declaredSocketComponent
        WebSocket {
            options.pingInterval: 40
            options.pongTimeout: 20
            options.highWaterMark: 4096
            options.lowWaterMark: 1024
            options.maxBufferedAmount: 8192
            options.maxPayload: 1000
            options.reconnect { enabled: true; minDelay: 30; maxDelay: 90; factor: 1.5; jitter: 0 }
            options.reconnect.maxAttempts: 4
            options.reconnect.afterNormalClose: true
        }
    }

    Component {
        id: declaredServerComponent
        WebSocketServer { maxPayload: 2000; pingInterval: 40; pongTimeout: 20 }
    }

    // A socket (not open yet) with these options and options.reconnect
    // settings, and what it reports, reconnections included.
    function socketWith(url, options, reconnect) {
        const socket = createTemporaryObject(socketComponent, testCase, { url: url })
        for (const name in options || {})
            socket.options[name] = options[name]
        for (const name in reconnect || {})
            socket.options.reconnect[name] = reconnect[name]
        const log = Helpers.record(socket)
        log.reconnecting = []
        log.reconnectFailed = 0
        log.drained = 0
        socket.reconnecting.connect((attempt, delayMs) => log.reconnecting.push([attempt, delayMs]))
        socket.reconnectFailed.connect(() => log.reconnectFailed++)
        socket.drained.connect(() => log.drained++)
        return { socket: socket, log: log }
    }

    // Open, to the C++ echo peer unless told otherwise.
    function connected(options, reconnect, url) {
        const client = socketWith(url || peer.echoUrl, options, reconnect)
        client.socket.active = true
        tryCompare(client.socket, "readyState", WebSocket.Open)
        return client
    }

    // A listening server with the connections it made.
    function listening(properties) {
        const server = createTemporaryObject(serverComponent, testCase,
                                             Object.assign({ active: true }, properties || {}))
        const log = { connections: [] }
        server.newConnection.connect(socket => log.connections.push(socket))
        tryCompare(server, "listening", true)
        return { server: server, log: log }
    }

    function init() {
        tryCompare(peer, "connections", 0)
    }

    function test_defaults() {
        const socket = createTemporaryObject(socketComponent, testCase)
        compare(socket.options.pingInterval, 0)
        compare(socket.options.pongTimeout, 0)
        compare(socket.options.highWaterMark, 1024 * 1024)
        compare(socket.options.lowWaterMark, 256 * 1024)
        compare(socket.options.maxBufferedAmount, 0)
        compare(socket.options.reconnect.enabled, false)
        compare(socket.options.reconnect.minDelay, 1000)
        compare(socket.options.reconnect.maxDelay, 30000)
        compare(socket.options.reconnect.factor, 2)
        compare(socket.options.reconnect.jitter, 0.2)
        compare(socket.options.reconnect.maxAttempts, 0)
        compare(socket.options.reconnect.afterNormalClose, false)
        compare(socket.backpressured, false)
        const server = createTemporaryObject(serverComponent, testCase)
        compare(server.pingInterval, 0)
        compare(server.pongTimeout, 0)
        compare(WebSocketServer.SendToAll, 0)
        compare(WebSocketServer.SkipBackpressured, 1)
        compare(WebSocketServer.DropBackpressured, 2)
    }

    function test_declared() {
        const socket = createTemporaryObject(declaredSocketComponent, testCase)
        compare(socket.options.pingInterval, 40)
        compare(socket.options.pongTimeout, 20)
        compare(socket.options.highWaterMark, 4096)
        compare(socket.options.lowWaterMark, 1024)
        compare(socket.options.maxBufferedAmount, 8192)
        compare(socket.options.maxPayload, 1000)
        compare(socket.options.reconnect.enabled, true)
        compare(socket.options.reconnect.minDelay, 30)
        compare(socket.options.reconnect.maxDelay, 90)
        compare(socket.options.reconnect.factor, 1.5)
        compare(socket.options.reconnect.jitter, 0)
        compare(socket.options.reconnect.maxAttempts, 4)
        compare(socket.options.reconnect.afterNormalClose, true)
        const server = createTemporaryObject(declaredServerComponent, testCase)
        compare(server.maxPayload, 2000)
        compare(server.pingInterval, 40)
        compare(server.pongTimeout, 20)
    }

    // Each new setting, the reconnect group's included, is a change of the options.
    function test_changes() {
        const socket = createTemporaryObject(socketComponent, testCase)
        let changes = 0
        socket.options.changed.connect(() => changes++)
        socket.options.pingInterval = 100
        socket.options.pingInterval = 100
        socket.options.pongTimeout = 50
        socket.options.highWaterMark = 4096
        socket.options.lowWaterMark = 1024
        socket.options.maxBufferedAmount = 8192
        socket.options.reconnect.enabled = true
        socket.options.reconnect.factor = 1.5
        socket.options.reconnect.factor = 1.5
        compare(changes, 7)
        compare(socket.options.reconnect.factor, 1.5)
    }

    // Pings that are answered keep the connection; each answer is a pong.
    function test_pingIntervalAnswered() {
        const client = connected({ pingInterval: 50 })
        tryVerify(() => client.log.pongs.length >= 4, 5000)
        compare(client.log.errors, [])
        compare(client.log.closed, [])
        compare(client.socket.readyState, WebSocket.Open)
    }

    // A peer that stops reading answers no ping: the client drops it.
    function test_pingIntervalTimesOut_data() {
        return [
            { tag: "timeout given", pingInterval: 100, pongTimeout: 150, named: 150 },
            { tag: "timeout 0 is the interval", pingInterval: 100, pongTimeout: 0, named: 100 },
        ]
    }

    function test_pingIntervalTimesOut(data) {
        const s = listening()
        const client = connected({ pingInterval: data.pingInterval, pongTimeout: data.pongTimeout },
                                 null, s.server.url)
        tryCompare(s.log.connections, "length", 1)
        s.log.connections[0].pause()
        tryCompare(client.log.closed, "length", 1)
        compare(client.log.errors, [{ code: "WSQT_ERR_TIMEOUT",
                                      message: "No answer from the peer within " + data.named + " ms" }])
        compare(client.log.closed[0].code, 1006)
        compare(client.socket.active, false)
    }

    // The server's heartbeat drops a client that does not answer pings.
    function test_serverPingInterval_data() {
        return [
            { tag: "client answers", autoPong: true },
            { tag: "client silent", autoPong: false },
        ]
    }

    function test_serverPingInterval(data) {
        const s = listening({ pingInterval: 60, pongTimeout: 60 })
        const client = connected({ autoPong: data.autoPong }, null, s.server.url)
        tryCompare(s.log.connections, "length", 1)
        const connectionLog = Helpers.record(s.log.connections[0])
        if (data.autoPong) {
            tryVerify(() => connectionLog.pongs.length >= 3, 5000)
            compare(connectionLog.errors, [])
            compare(client.log.closed, [])
            verify(client.log.pings.length >= 3)
        } else {
            tryCompare(client.log.closed, "length", 1)
            compare(client.log.closed[0].code, 1006)
            compare(connectionLog.errors, [{ code: "WSQT_ERR_TIMEOUT",
                                             message: "No answer from the peer within 60 ms" }])
            verify(client.log.pings.length >= 1)
        }
    }

    // Settings changed while listening apply to the next connections.
    function test_serverHeartbeatSettings() {
        const s = listening()
        const quiet = connected({ autoPong: false }, null, s.server.url)
        s.server.pingInterval = 50
        tryCompare(s.server, "listening", true)
        const beating = connected({ autoPong: false }, null, s.server.url)
        tryCompare(beating.log.closed, "length", 1)
        compare(quiet.log.closed, [])
        compare(quiet.log.pings, [])
        compare(quiet.socket.readyState, WebSocket.Open)
    }

    // A send that reaches the high-water mark sets backpressured; drained()
    // follows once the data is written, down to the low mark.
    function test_backpressure() {
        const client = connected({ highWaterMark: 64 * 1024, lowWaterMark: 16 * 1024 })
        let backpressuredChanges = []
        client.socket.bufferedAmountChanged.connect(() => backpressuredChanges.push(client.socket.backpressured))
        verify(client.socket.send(new ArrayBuffer(1000)))
        compare(client.socket.backpressured, false)
        verify(client.socket.send(new ArrayBuffer(512 * 1024)))
        compare(client.socket.backpressured, true)
        verify(client.socket.bufferedAmount >= 64 * 1024)
        tryCompare(client.log, "drained", 1)
        compare(client.socket.backpressured, false)
        verify(client.socket.bufferedAmount <= 16 * 1024)
        verify(backpressuredChanges.indexOf(true) >= 0)
        compare(backpressuredChanges[backpressuredChanges.length - 1], false)
        tryCompare(client.log.messages, "length", 2)
        compare(client.log.messages[1].message.byteLength, 512 * 1024)
        compare(client.log.drained, 1)
    }

    // maxBufferedAmount refuses a send past it, reports it once, and closes
    // the connection with 1008.
    function test_maxBufferedAmount() {
        const client = connected({ maxBufferedAmount: 100000 })
        verify(client.socket.send(new ArrayBuffer(60000)))
        ignoreWarning(Helpers.warning("WebSocket", "WSQT_ERR_BUFFER_OVERFLOW",
                                      "bufferedAmount would pass maxBufferedAmount (100000 bytes)"))
        verify(!client.socket.send(new ArrayBuffer(60000)))
        compare(client.log.errors, [{ code: "WSQT_ERR_BUFFER_OVERFLOW",
                                      message: "bufferedAmount would pass maxBufferedAmount (100000 bytes)" }])
        tryCompare(client.log.closed, "length", 1)
        compare(client.log.closed[0].code, 1008)
        compare(client.log.messages.length, 1)
        compare(client.log.errors.length, 1)
    }

    // A lost connection comes back by itself, after the delay.
    function test_reconnect() {
        const client = connected(null, { enabled: true, minDelay: 30, jitter: 0 })
        const activeAtReconnecting = []
        client.socket.reconnecting.connect(() => activeAtReconnecting.push(client.socket.active))
        verify(client.socket.send("!terminate"))
        tryCompare(client.log, "opened", 2)
        compare(client.log.closed, [{ code: 1006, reason: "" }])
        compare(client.log.reconnecting, [[1, 30]])
        compare(activeAtReconnecting, [true])
        compare(client.socket.active, true)
        verify(client.socket.send("back"))
        tryCompare(client.log.messages, "length", 1)
        compare(client.log.messages[0].message, "back")
        // Lost again: the count starts over.
        verify(client.socket.send("!terminate"))
        tryCompare(client.log, "opened", 3)
        compare(client.log.reconnecting, [[1, 30], [1, 30]])
    }

    function test_reconnectFailed() {
        const client = socketWith(peer.closedUrl, null,
                                  { enabled: true, minDelay: 20, jitter: 0, factor: 3, maxAttempts: 2 })
        client.socket.active = true
        tryCompare(client.log, "reconnectFailed", 1)
        compare(client.log.reconnecting, [[1, 20], [2, 60]])
        compare(client.log.closed.length, 3)
        compare(client.log.opened, 0)
        compare(client.socket.active, false)
        compare(client.socket.readyState, WebSocket.Closed)
    }

    // A normal close by the server is final unless afterNormalClose; a
    // second socket that reconnects later is the clock.
    function test_reconnectAfterNormalClose_data() {
        return [
            { tag: "not after 1000", afterNormalClose: false, reconnects: false },
            { tag: "afterNormalClose", afterNormalClose: true, reconnects: true },
        ]
    }

    function test_reconnectAfterNormalClose(data) {
        const client = connected(null, { enabled: true, minDelay: 20, jitter: 0,
                                         afterNormalClose: data.afterNormalClose })
        const clock = connected(null, { enabled: true, minDelay: 150, jitter: 0 })
        verify(client.socket.send("!close 1000"))
        verify(clock.socket.send("!terminate"))
        tryCompare(clock.log, "opened", 2)
        compare(client.log.closed, [{ code: 1000, reason: "" }])
        if (data.reconnects) {
            tryCompare(client.log, "opened", 2)
            compare(client.log.reconnecting, [[1, 20]])
            compare(client.socket.active, true)
        } else {
            compare(client.log.reconnecting, [])
            compare(client.log.opened, 1)
            compare(client.socket.active, false)
        }
    }

    // active = false while a reconnection waits cancels it.
    function test_inactiveCancelsReconnect() {
        const client = connected(null, { enabled: true, minDelay: 100, jitter: 0 })
        const clock = connected(null, { enabled: true, minDelay: 250, jitter: 0 })
        verify(client.socket.send("!terminate"))
        verify(clock.socket.send("!terminate"))
        tryCompare(client.log.reconnecting, "length", 1)
        compare(client.socket.active, true)
        client.socket.active = false
        tryCompare(clock.log, "opened", 2)
        compare(client.log.opened, 1)
        compare(client.log.reconnecting.length, 1)
        compare(client.socket.readyState, WebSocket.Closed)
        compare(client.socket.active, false)
    }

    // One connection has more queued than its high-water mark; the other
    // has nothing queued. Each policy's treatment of the first.
    function test_broadcastPolicy_data() {
        return [
            { tag: "SendToAll", policy: WebSocketServer.SendToAll, took: 2, slowGetsIt: true, dropped: false },
            { tag: "SkipBackpressured", policy: WebSocketServer.SkipBackpressured, took: 1, slowGetsIt: false,
              dropped: false },
            { tag: "DropBackpressured", policy: WebSocketServer.DropBackpressured, took: 1, slowGetsIt: false,
              dropped: true },
        ]
    }

    function test_broadcastPolicy(data) {
        const s = listening()
        const slow = connected(null, null, s.server.url)
        tryCompare(s.log.connections, "length", 1)
        const fast = connected(null, null, s.server.url)
        tryCompare(s.log.connections, "length", 2)
        const slowSide = s.log.connections[0]
        // 16 MiB sent at once: more than the kernel takes before the client
        // reads, so past the default high-water mark (1 MiB) for a while.
        verify(slowSide.send(new ArrayBuffer(16 * 1024 * 1024)))
        verify(slowSide.backpressured)
        compare(s.server.broadcast("news", data.policy), data.took)
        if (!data.dropped)
            verify(slowSide.send("end"))
        tryCompare(fast.log.messages, "length", 1)
        compare(fast.log.messages[0].message, "news")
        if (data.dropped) {
            tryCompare(slow.log.closed, "length", 1)
            compare(slow.log.closed[0], { code: 1008, reason: "too slow" })
            compare(slow.log.messages.length, 1)
        } else {
            tryCompare(slow.log.messages, "length", data.slowGetsIt ? 3 : 2)
            const texts = slow.log.messages.slice(1).map(entry => entry.message)
            compare(texts, data.slowGetsIt ? ["news", "end"] : ["end"])
        }
        compare(slow.log.messages[0].message.byteLength, 16 * 1024 * 1024)
        compare(fast.log.closed, [])
    }

    // Without a policy, broadcast() sends to all, as before.
    function test_broadcastDefaultSendsToAll() {
        const s = listening()
        const slow = connected(null, null, s.server.url)
        tryCompare(s.log.connections, "length", 1)
        verify(s.log.connections[0].send(new ArrayBuffer(16 * 1024 * 1024)))
        verify(s.log.connections[0].backpressured)
        compare(s.server.broadcast("anyway"), 1)
        tryCompare(slow.log.messages, "length", 2)
        compare(slow.log.messages[1].message, "anyway")
    }
}
