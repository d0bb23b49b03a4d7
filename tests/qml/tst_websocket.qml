// WebSocket against the C++ echo peer (a WsServer): properties, signals,
// methods, and the errors QML code can cause.
import QtQuick
import QtTest
import WsQt
import WsQtTestPeer
import "helpers.js" as Helpers

TestCase {
    id: testCase
    name: "WebSocket"

    CppPeer { id: peer }

    Component {
        id: socketComponent
        WebSocket { }
    }

    // A socket to the echo peer with what it reports; open unless told otherwise.
    function connected(properties) {
        const socket = createTemporaryObject(socketComponent, testCase,
                                             Object.assign({ url: peer.echoUrl }, properties || {}))
        const log = Helpers.record(socket)
        socket.active = true
        tryCompare(socket, "readyState", WebSocket.Open)
        return { socket: socket, log: log }
    }

    // The next call gives this warning (its errorOccurred is checked apart).
    function expectWarning(code, message) {
        ignoreWarning(Helpers.warning("WebSocket", code, message))
    }

    function peerLog() {
        const log = { closed: [], received: [], pongs: [] }
        const onClosed = (code, reason) => log.closed.push({ code: code, reason: reason })
        const onReceived = (message, isBinary) => log.received.push({ message: message, isBinary: isBinary })
        const onPong = payload => log.pongs.push(Helpers.bytes(payload))
        peer.peerClosed.connect(onClosed)
        peer.peerReceived.connect(onReceived)
        peer.peerPong.connect(onPong)
        log.stop = () => {
            peer.peerClosed.disconnect(onClosed)
            peer.peerReceived.disconnect(onReceived)
            peer.peerPong.disconnect(onPong)
        }
        return log
    }

    // What the last test left closes on its own (temporary objects are destroyed after it).
    function init() {
        tryCompare(peer, "connections", 0)
    }

    function test_defaults() {
        const socket = createTemporaryObject(socketComponent, testCase)
        compare(socket.url.toString(), "")
        compare(socket.protocols, [])
        compare(socket.active, false)
        compare(socket.readyState, WebSocket.Closed)
        compare(socket.protocol, "")
        compare(socket.extensions, "")
        compare(socket.bufferedAmount, 0)
        compare(socket.binaryType, WebSocket.ArrayBuffer)
        compare(socket.paused, false)
        compare(socket.serverSide, false)
        compare(socket.peerAddress, "")
        compare(socket.peerPort, 0)
        compare(socket.options.maxPayload, 100 * 1024 * 1024)
        compare(socket.options.handshakeTimeout, 0)
        compare(socket.options.closeTimeout, 30000)
        compare(socket.options.autoPong, true)
        compare(socket.options.perMessageDeflate, true)
        compare(socket.options.followRedirects, false)
        compare(socket.options.maxRedirects, 10)
        compare(socket.options.origin, "")
        compare(socket.options.auth, "")
        compare(socket.options.headers, {})
        compare(socket.options.caCertificates, [])
        compare(socket.options.ignoreSslErrors, false)
        // Closing what never opened does nothing, as in ws.
        verify(socket.close())
        socket.terminate()
        socket.pause()
        compare(socket.paused, false)
    }

    function test_openAndClose() {
        const peerEvents = peerLog()
        const socket = createTemporaryObject(socketComponent, testCase, { url: peer.echoUrl })
        const log = Helpers.record(socket)
        socket.active = true
        compare(socket.readyState, WebSocket.Connecting)
        tryCompare(log, "opened", 1)
        compare(log.states, [WebSocket.Connecting, WebSocket.Open])
        compare(socket.readyState, WebSocket.Open)
        compare(socket.peerAddress, "127.0.0.1")
        compare(socket.peerPort, Number(peer.echoUrl.split(":")[2].replace("/", "")))
        compare(peer.connections, 1)

        socket.active = false
        compare(socket.readyState, WebSocket.Closing)
        tryCompare(log.closed, "length", 1)
        compare(log.closed[0], { code: 1000, reason: "" })
        compare(log.states, [WebSocket.Connecting, WebSocket.Open, WebSocket.Closing, WebSocket.Closed])
        compare(socket.active, false)
        tryCompare(peerEvents.closed, "length", 1)
        compare(peerEvents.closed[0], { code: 1000, reason: "" })
        compare(log.errors, [])
        peerEvents.stop()
    }

    function test_text_data() {
        return [
            { tag: "ascii", text: "hello" },
            { tag: "empty", text: "" },
            { tag: "unicode", text: "héllo wörld ✓ 😀" },
            { tag: "large", text: "abcdefgh".repeat(20000) },
        ]
    }

    function test_text(data) {
        const client = connected()
        verify(client.socket.send(data.text))
        tryCompare(client.log.messages, "length", 1)
        compare(typeof client.log.messages[0].message, "string")
        compare(client.log.messages[0].message, data.text)
        compare(client.log.messages[0].isBinary, false)
    }

    function test_binary_data() {
        const whole = new Uint8Array([0, 1, 2, 127, 128, 255])
        return [
            { tag: "ArrayBuffer", value: whole.buffer, expected: [0, 1, 2, 127, 128, 255] },
            { tag: "empty ArrayBuffer", value: new ArrayBuffer(0), expected: [] },
            { tag: "Uint8Array view", value: whole.subarray(2, 5), expected: [2, 127, 128] },
            { tag: "Uint16Array", value: new Uint16Array([0x0102]), expected: [2, 1] },
            { tag: "DataView", value: new DataView(whole.buffer, 4, 2), expected: [128, 255] },
        ]
    }

    function test_binary(data) {
        const client = connected()
        verify(client.socket.send(data.value))
        tryCompare(client.log.messages, "length", 1)
        const message = client.log.messages[0]
        verify(message.message instanceof ArrayBuffer)
        compare(message.isBinary, true)
        compare(Helpers.bytes(message.message), data.expected)
    }

    function test_sendRefusesOtherTypes_data() {
        return [
            { tag: "object", value: { a: 1 } },
            { tag: "number", value: 42 },
            { tag: "undefined", value: undefined },
            { tag: "array", value: [1, 2] },
        ]
    }

    function test_sendRefusesOtherTypes(data) {
        const client = connected()
        expectWarning("WSQT_ERR_INVALID_ARGUMENT",
                      "send() takes a string, an ArrayBuffer, a typed array or a DataView")
        compare(client.socket.send(data.value), false)
        compare(client.log.errors, [{ code: "WSQT_ERR_INVALID_ARGUMENT",
                                      message: "send() takes a string, an ArrayBuffer, a typed array or a DataView" }])
        compare(client.socket.readyState, WebSocket.Open)
    }

    function test_sendWhenNotOpen() {
        const socket = createTemporaryObject(socketComponent, testCase, { url: peer.silentUrl })
        const log = Helpers.record(socket)
        expectWarning("WSQT_ERR_INVALID_STATE", "WebSocket is not open: readyState 3 (CLOSED)")
        compare(socket.send("early"), false)
        socket.active = true
        compare(socket.readyState, WebSocket.Connecting)
        expectWarning("WSQT_ERR_INVALID_STATE", "WebSocket is not open: readyState 0 (CONNECTING)")
        compare(socket.send("too soon"), false)
        expectWarning("WSQT_ERR_INVALID_STATE", "WebSocket is not open: readyState 0 (CONNECTING)")
        compare(socket.ping(), false)
        compare(log.errors, [
            { code: "WSQT_ERR_INVALID_STATE", message: "WebSocket is not open: readyState 3 (CLOSED)" },
            { code: "WSQT_ERR_INVALID_STATE", message: "WebSocket is not open: readyState 0 (CONNECTING)" },
            { code: "WSQT_ERR_INVALID_STATE", message: "WebSocket is not open: readyState 0 (CONNECTING)" },
        ])
        compare(socket.readyState, WebSocket.Connecting)
    }

    function test_sendWhileClosing() {
        const client = connected()
        verify(client.socket.close(1000))
        compare(client.socket.readyState, WebSocket.Closing)
        expectWarning("WSQT_ERR_INVALID_STATE", "WebSocket is not open: readyState 2 (CLOSING)")
        compare(client.socket.send("late"), false)
        compare(client.log.errors, [{ code: "WSQT_ERR_INVALID_STATE",
                                      message: "WebSocket is not open: readyState 2 (CLOSING)" }])
        tryCompare(client.socket, "readyState", WebSocket.Closed)
    }

    function test_badCloseCode_data() {
        return [999, 1004, 1005, 1006, 1015, 2999, 5000, -1].map(code => ({ tag: String(code), code: code }))
    }

    function test_badCloseCode(data) {
        const client = connected()
        expectWarning("WSQT_ERR_INVALID_ARGUMENT", "First argument must be a valid error code number")
        compare(client.socket.close(data.code, "reason"), false)
        compare(client.log.errors, [{ code: "WSQT_ERR_INVALID_ARGUMENT",
                                      message: "First argument must be a valid error code number" }])
        // Nothing changed: the connection still works.
        compare(client.socket.readyState, WebSocket.Open)
        compare(client.socket.active, true)
        verify(client.socket.send("still open"))
        tryCompare(client.log.messages, "length", 1)
    }

    function test_closeReasonTooLong() {
        const client = connected()
        expectWarning("WSQT_ERR_INVALID_ARGUMENT", "The message must not be greater than 123 bytes")
        compare(client.socket.close(1000, "x".repeat(124)), false)
        compare(client.log.errors[0].code, "WSQT_ERR_INVALID_ARGUMENT")
        compare(client.socket.readyState, WebSocket.Open)
        // 123 bytes is the limit; "é" is two of them.
        verify(client.socket.close(1000, "é".repeat(61) + "x"))
        tryCompare(client.log.closed, "length", 1)
    }

    function test_closeWithCode_data() {
        return [
            { tag: "1000", code: 1000, reason: "", peerCode: 1000 },
            { tag: "4001 bye", code: 4001, reason: "bye", peerCode: 4001 },
            { tag: "3000 unicode", code: 3000, reason: "fin ✓", peerCode: 3000 },
            { tag: "no code", code: undefined, reason: undefined, peerCode: 1005 },
        ]
    }

    function test_closeWithCode(data) {
        const peerEvents = peerLog()
        const client = connected()
        verify(data.code === undefined ? client.socket.close() : client.socket.close(data.code, data.reason))
        tryCompare(peerEvents.closed, "length", 1)
        compare(peerEvents.closed[0], { code: data.peerCode, reason: data.reason || "" })
        tryCompare(client.log.closed, "length", 1)
        // The peer answers with the code (and reason) it got.
        compare(client.log.closed[0], { code: data.peerCode, reason: data.reason || "" })
        compare(client.socket.active, false)
        compare(client.log.errors, [])
        peerEvents.stop()
    }

    function test_closeTwice() {
        const peerEvents = peerLog()
        const client = connected()
        verify(client.socket.close(4000, "first"))
        // Already closing: nothing more happens, as in ws.
        verify(client.socket.close(4001, "second"))
        tryCompare(client.log.closed, "length", 1)
        compare(client.log.closed[0], { code: 4000, reason: "first" })
        compare(peerEvents.closed, [{ code: 4000, reason: "first" }])
        compare(client.log.errors, [])
        peerEvents.stop()
    }

    function test_peerCloses() {
        const client = connected()
        verify(client.socket.send("!close 4000 done"))
        tryCompare(client.log.closed, "length", 1)
        compare(client.log.closed[0], { code: 4000, reason: "done" })
        compare(client.socket.readyState, WebSocket.Closed)
        compare(client.socket.active, false)
    }

    function test_terminate() {
        const peerEvents = peerLog()
        const client = connected()
        client.socket.terminate()
        tryCompare(client.log.closed, "length", 1)
        compare(client.log.closed[0], { code: 1006, reason: "" })
        tryCompare(peerEvents.closed, "length", 1)
        compare(peerEvents.closed[0].code, 1006)
        compare(client.socket.active, false)
        peerEvents.stop()
    }

    function test_peerTerminates() {
        const client = connected()
        verify(client.socket.send("!terminate"))
        tryCompare(client.log.closed, "length", 1)
        compare(client.log.closed[0], { code: 1006, reason: "" })
    }

    function test_ping_data() {
        return [
            { tag: "none", payload: undefined, expected: [] },
            { tag: "string", payload: "hello", expected: Helpers.ascii("hello") },
            { tag: "ArrayBuffer", payload: Helpers.buffer([0, 255, 7]), expected: [0, 255, 7] },
            { tag: "125 bytes", payload: "p".repeat(125), expected: Helpers.ascii("p".repeat(125)) },
        ]
    }

    function test_ping(data) {
        const client = connected()
        verify(data.payload === undefined ? client.socket.ping() : client.socket.ping(data.payload))
        tryCompare(client.log.pongs, "length", 1)
        compare(client.log.pongs[0], data.expected)
    }

    function test_pingRefused_data() {
        return [
            { tag: "126 bytes", payload: "p".repeat(126), code: "WSQT_ERR_INVALID_ARGUMENT",
              message: "The data size must not be greater than 125 bytes" },
            { tag: "object", payload: { a: 1 }, code: "WSQT_ERR_INVALID_ARGUMENT",
              message: "ping() takes a string, an ArrayBuffer, a typed array or a DataView" },
        ]
    }

    function test_pingRefused(data) {
        const client = connected()
        expectWarning(data.code, data.message)
        compare(client.socket.ping(data.payload), false)
        expectWarning(data.code, data.message.replace("ping()", "pong()"))
        compare(client.socket.pong(data.payload), false)
        const pongMessage = data.message.replace("ping()", "pong()")
        compare(client.log.errors, [{ code: data.code, message: data.message },
                                    { code: data.code, message: pongMessage }])
        compare(client.socket.readyState, WebSocket.Open)
    }

    function test_pingFromPeer() {
        const peerEvents = peerLog()
        const client = connected()
        verify(client.socket.send("!ping abc"))
        tryCompare(client.log.pings, "length", 1)
        compare(client.log.pings[0], Helpers.ascii("abc"))
        // autoPong answered it.
        tryCompare(peerEvents.pongs, "length", 1)
        compare(peerEvents.pongs[0], Helpers.ascii("abc"))
        peerEvents.stop()
    }

    function test_unsolicitedPong() {
        const peerEvents = peerLog()
        const client = connected()
        verify(client.socket.pong("hi"))
        verify(client.socket.pong())
        tryCompare(peerEvents.pongs, "length", 2)
        compare(peerEvents.pongs, [Helpers.ascii("hi"), []])
        peerEvents.stop()
    }

    function test_protocols() {
        const client = connected({ protocols: ["chat", "superchat"] })
        compare(client.socket.protocols, ["chat", "superchat"])
        // The peer picks the first one offered.
        compare(client.socket.protocol, "chat")
        compare(peer.lastHeaders["sec-websocket-protocol"], "chat,superchat")
        verify(client.socket.send("!protocol"))
        tryCompare(client.log.messages, "length", 1)
        compare(client.log.messages[0].message, "chat")
    }

    function test_invalidProtocols_data() {
        return [
            { tag: "space", protocols: ["a b"] },
            { tag: "duplicate", protocols: ["x", "x"] },
            { tag: "empty", protocols: [""] },
        ]
    }

    function test_invalidProtocols(data) {
        const socket = createTemporaryObject(socketComponent, testCase,
                                             { url: peer.echoUrl, protocols: data.protocols })
        const log = Helpers.record(socket)
        expectWarning("WSQT_ERR_INVALID_ARGUMENT", "An invalid or duplicated subprotocol was specified")
        socket.active = true
        compare(log.errors, [{ code: "WSQT_ERR_INVALID_ARGUMENT",
                               message: "An invalid or duplicated subprotocol was specified" }])
        compare(socket.active, false)
        compare(socket.readyState, WebSocket.Closed)
        compare(peer.connections, 0)
    }

    function test_invalidUrl_data() {
        return [
            { tag: "scheme", url: "ftp://127.0.0.1/",
              message: "The URL's protocol must be one of \"ws:\", \"wss:\", \"http:\", \"https:\", or \"ws+unix:\"" },
            { tag: "fragment", url: peer.echoUrl + "#part", message: "The URL contains a fragment identifier" },
            { tag: "empty", url: "", message: "Invalid URL: " },
        ]
    }

    function test_invalidUrl(data) {
        const socket = createTemporaryObject(socketComponent, testCase, { url: data.url })
        const log = Helpers.record(socket)
        expectWarning("WSQT_ERR_INVALID_URL", data.message)
        socket.active = true
        compare(log.errors, [{ code: "WSQT_ERR_INVALID_URL", message: data.message }])
        compare(socket.active, false)
        compare(socket.readyState, WebSocket.Closed)
        compare(log.closed, [])
    }

    function test_activeFromTheStart() {
        // Properties given at creation apply before the socket opens.
        const socket = createTemporaryObject(socketComponent, testCase,
                                             { url: peer.echoUrl, protocols: ["first"], active: true })
        compare(socket.readyState, WebSocket.Connecting)
        tryCompare(socket, "readyState", WebSocket.Open)
        compare(socket.protocol, "first")
    }

    function test_connectionRefused() {
        const socket = createTemporaryObject(socketComponent, testCase, { url: peer.closedUrl })
        const log = Helpers.record(socket)
        socket.active = true
        tryCompare(log.closed, "length", 1)
        compare(log.closed[0], { code: 1006, reason: "" })
        compare(log.errors.length, 1)
        compare(log.errors[0].code, "WSQT_ERR_CONNECTION")
        compare(socket.active, false)
        compare(log.opened, 0)
    }

    function test_closeWhileConnecting() {
        const socket = createTemporaryObject(socketComponent, testCase, { url: peer.silentUrl })
        const log = Helpers.record(socket)
        const silentBefore = peer.silentConnections
        socket.active = true
        tryCompare(peer, "silentConnections", silentBefore + 1)
        verify(socket.close())
        tryCompare(log.closed, "length", 1)
        compare(log.errors, [{ code: "WSQT_ERR_HANDSHAKE_FAILED",
                               message: "WebSocket was closed before the connection was established" }])
        compare(log.closed[0], { code: 1006, reason: "" })
        compare(socket.active, false)
    }

    function test_activeToggling() {
        const client = connected()
        client.socket.active = false
        tryCompare(client.log.closed, "length", 1)
        tryCompare(peer, "connections", 0)
        client.socket.active = true
        tryCompare(client.log, "opened", 2)
        compare(peer.connections, 1)
        // Several changes in one turn: only the last one counts.
        client.socket.active = false
        client.socket.active = true
        client.socket.active = false
        client.socket.active = true
        tryCompare(client.log, "opened", 3)
        tryCompare(peer, "connections", 1)
        compare(client.socket.readyState, WebSocket.Open)
        compare(client.socket.active, true)
    }

    function test_reconnectFromClosed() {
        const client = connected()
        let reconnects = 0
        client.socket.closed.connect(() => {
            if (reconnects++ === 0)
                client.socket.active = true
        })
        verify(client.socket.send("!close 4000 again"))
        tryCompare(client.log, "opened", 2)
        compare(client.socket.active, true)
        compare(client.log.closed, [{ code: 4000, reason: "again" }])
    }

    function test_urlChangeReconnects() {
        const peerEvents = peerLog()
        const client = connected()
        const urls = []
        client.socket.urlChanged.connect(() => urls.push(client.socket.url.toString()))
        client.socket.url = peer.echoUrl + "other"
        compare(urls, [peer.echoUrl + "other"])
        tryCompare(client.log, "opened", 2)
        tryCompare(peerEvents.closed, "length", 1)
        compare(peerEvents.closed[0].code, 1000)
        compare(peer.connections, 1)
        // The old connection says nothing more: it was let go.
        compare(client.log.closed, [])
        peerEvents.stop()
    }

    function test_protocolsChange() {
        const socket = createTemporaryObject(socketComponent, testCase)
        let changes = 0
        socket.protocolsChanged.connect(() => changes++)
        socket.protocols = ["a", "b"]
        socket.protocols = ["a", "b"]
        compare(changes, 1)
        compare(socket.protocols, ["a", "b"])
    }

    function test_binaryType() {
        const client = connected()
        let changes = 0
        client.socket.binaryTypeChanged.connect(() => changes++)

        verify(client.socket.send("!fragments binary"))
        tryCompare(client.log.messages, "length", 1)
        compare(Helpers.bytes(client.log.messages[0].message), Helpers.ascii("abcdef"))

        client.socket.binaryType = WebSocket.Fragments
        compare(changes, 1)
        compare(client.socket.binaryType, WebSocket.Fragments)
        verify(client.socket.send("!fragments binary"))
        tryCompare(client.log.messages, "length", 2)
        const fragments = client.log.messages[1].message
        compare(fragments.length, 3)
        compare(fragments.map(Helpers.bytes), [Helpers.ascii("ab"), Helpers.ascii("cd"), Helpers.ascii("ef")])
        compare(client.log.messages[1].isBinary, true)

        // Text is whole even when a character spans two frames.
        verify(client.socket.send("!fragments text"))
        tryCompare(client.log.messages, "length", 3)
        compare(client.log.messages[2], { message: "café!", isBinary: false })
    }

    function test_bufferedAmount() {
        const client = connected()
        let changes = 0
        client.socket.bufferedAmountChanged.connect(() => changes++)
        const size = 4 * 1024 * 1024
        verify(client.socket.send(new ArrayBuffer(size)))
        // Queued, not yet written: the frame's header counts too.
        verify(client.socket.bufferedAmount > 0)
        verify(client.socket.bufferedAmount <= size + 14)
        verify(changes >= 1)
        tryCompare(client.socket, "bufferedAmount", 0)
        tryCompare(client.log.messages, "length", 1, 20000)
        compare(client.log.messages[0].message.byteLength, size)
    }

    function test_pauseAndResume() {
        const peerEvents = peerLog()
        const client = connected()
        let changes = 0
        client.socket.pausedChanged.connect(() => changes++)
        client.socket.pause()
        compare(client.socket.paused, true)
        compare(changes, 1)
        verify(client.socket.send("while paused"))
        tryCompare(peerEvents.received, "length", 1)
        // The echo was sent; nothing may arrive while paused.
        wait(200)
        compare(client.log.messages, [])
        client.socket.resume()
        compare(client.socket.paused, false)
        compare(changes, 2)
        tryCompare(client.log.messages, "length", 1)
        compare(client.log.messages[0].message, "while paused")
        peerEvents.stop()
    }

    function test_destroyedWhileOpen() {
        const peerEvents = peerLog()
        const socket = socketComponent.createObject(testCase, { url: peer.echoUrl, active: true })
        tryCompare(socket, "readyState", WebSocket.Open)
        socket.destroy()
        // The connection still ends with a closing handshake: "going away".
        tryCompare(peerEvents.closed, "length", 1)
        compare(peerEvents.closed[0], { code: 1001, reason: "" })
        peerEvents.stop()
    }

    function test_destroyedWhileConnecting() {
        const silentBefore = peer.silentConnections
        const socket = socketComponent.createObject(testCase, { url: peer.silentUrl, active: true })
        tryCompare(peer, "silentConnections", silentBefore + 1)
        socket.destroy()
        wait(0)
        // And from its own signal handler.
        const other = socketComponent.createObject(testCase, { url: peer.echoUrl, active: true })
        let destroyedInHandler = false
        other.messageReceived.connect(() => {
            other.destroy()
            destroyedInHandler = true
        })
        tryCompare(other, "readyState", WebSocket.Open)
        verify(other.send("bye"))
        tryVerify(() => destroyedInHandler)
        tryCompare(peer, "connections", 0)
    }
}
