// WebSocket's grouped options, each checked on what the peer saw or on the
// error it causes.
import QtQuick
import QtTest
import WsQt
import WsQtTestPeer
import "helpers.js" as Helpers

TestCase {
    id: testCase
    name: "WebSocketOptions"

    CppPeer { id: peer }

    Component {
        id: socketComponent
        WebSocket { }
    }

    // A socket with these options (not open yet) and what it reports.
    function socketWith(url, options) {
        const socket = createTemporaryObject(socketComponent, testCase, { url: url })
        for (const name in options)
            socket.options[name] = options[name]
        return { socket: socket, log: Helpers.record(socket) }
    }

    function init() {
        tryCompare(peer, "connections", 0)
    }

    function test_changes() {
        const socket = createTemporaryObject(socketComponent, testCase)
        let changes = 0
        socket.options.changed.connect(() => changes++)
        socket.options.maxPayload = 10
        socket.options.maxPayload = 10
        socket.options.headers = { "x-a": "1" }
        socket.options.caCertificates = [peer.caFile]
        compare(changes, 3)
        compare(socket.options.maxPayload, 10)
        compare(socket.options.headers, { "x-a": "1" })
        compare(socket.options.caCertificates, [peer.caFile])
    }

    function test_maxPayload_data() {
        return [
            { tag: "over", maxPayload: 10, size: 11, error: true },
            { tag: "equal", maxPayload: 10, size: 10, error: false },
            { tag: "no limit", maxPayload: 0, size: 200000, error: false },
        ]
    }

    function test_maxPayload(data) {
        const client = socketWith(peer.echoUrl, { maxPayload: data.maxPayload })
        const peerCodes = []
        const onPeerClosed = code => peerCodes.push(code)
        peer.peerClosed.connect(onPeerClosed)
        client.socket.active = true
        tryCompare(client.socket, "readyState", WebSocket.Open)
        verify(client.socket.send("!bytes " + data.size))
        if (data.error) {
            tryCompare(client.log.closed, "length", 1)
            compare(client.log.errors, [{ code: "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
                                          message: "Max payload size exceeded" }])
            compare(client.log.messages, [])
            tryCompare(peerCodes, "length", 1)
            compare(peerCodes, [1009])
        } else {
            tryCompare(client.log.messages, "length", 1)
            compare(client.log.messages[0].message.byteLength, data.size)
            compare(client.log.errors, [])
        }
        peer.peerClosed.disconnect(onPeerClosed)
    }

    function test_handshakeTimeout() {
        const client = socketWith(peer.silentUrl, { handshakeTimeout: 100 })
        client.socket.active = true
        tryCompare(client.log.closed, "length", 1)
        compare(client.log.errors, [{ code: "WSQT_ERR_HANDSHAKE_TIMEOUT", message: "Opening handshake has timed out" }])
        compare(client.log.closed[0].code, 1006)
        compare(client.socket.active, false)
    }

    function test_perMessageDeflate_data() {
        return [
            { tag: "offered", on: true },
            { tag: "not offered", on: false },
        ]
    }

    function test_perMessageDeflate(data) {
        if (data.on && !peer.deflateAvailable)
            skip("built without zlib")
        const client = socketWith(peer.echoUrl, { perMessageDeflate: data.on })
        client.socket.active = true
        tryCompare(client.socket, "readyState", WebSocket.Open)
        const offer = peer.lastHeaders["sec-websocket-extensions"]
        if (data.on)
            verify(offer.startsWith("permessage-deflate"), offer)
        else
            compare(offer, undefined)
        // This peer has it off: nothing is negotiated.
        compare(client.socket.extensions, "")
    }

    function test_redirects_data() {
        return [
            { tag: "not followed", follow: false, max: 10,
              error: { code: "WSQT_ERR_UNEXPECTED_RESPONSE", message: "Unexpected server response: 302" } },
            { tag: "followed", follow: true, max: 10, error: null },
            { tag: "too many", follow: true, max: 0,
              error: { code: "WSQT_ERR_TOO_MANY_REDIRECTS", message: "Maximum redirects exceeded" } },
        ]
    }

    function test_redirects(data) {
        const client = socketWith(peer.redirectUrl, { followRedirects: data.follow, maxRedirects: data.max })
        client.socket.active = true
        if (data.error) {
            tryCompare(client.log.closed, "length", 1)
            compare(client.log.errors, [data.error])
            compare(client.log.opened, 0)
        } else {
            tryCompare(client.log, "opened", 1)
            compare(peer.connections, 1)
            verify(client.socket.send("redirected"))
            tryCompare(client.log.messages, "length", 1)
        }
    }

    function test_requestHeaders() {
        const client = socketWith(peer.echoUrl, {
            origin: "https://example.org",
            auth: "user:secret",
            headers: { "X-Custom": "value", "User-Agent": "wsqt-qml-test" },
        })
        client.socket.active = true
        tryCompare(client.socket, "readyState", WebSocket.Open)
        compare(peer.lastHeaders["origin"], "https://example.org")
        compare(peer.lastHeaders["authorization"], "Basic " + Qt.btoa("user:secret"))
        compare(peer.lastHeaders["x-custom"], "value")
        compare(peer.lastHeaders["user-agent"], "wsqt-qml-test")
    }

    function test_badHeader() {
        const client = socketWith(peer.echoUrl, { headers: { "X-Bad": "one\r\ntwo" } })
        ignoreWarning(/QML WebSocket: WSQT_ERR_INVALID_ARGUMENT: /)
        client.socket.active = true
        compare(client.log.errors.length, 1)
        compare(client.log.errors[0].code, "WSQT_ERR_INVALID_ARGUMENT")
        compare(client.socket.active, false)
        compare(client.socket.readyState, WebSocket.Closed)
    }

    function test_autoPong_data() {
        return [
            { tag: "on", autoPong: true, pongs: [Helpers.ascii("abc")] },
            { tag: "off", autoPong: false, pongs: [] },
        ]
    }

    function test_autoPong(data) {
        const client = socketWith(peer.echoUrl, { autoPong: data.autoPong })
        const pongs = []
        let pongsAtSync = -1
        const onPong = payload => pongs.push(Helpers.bytes(payload))
        const onReceived = message => { if (message === "sync") pongsAtSync = pongs.length }
        peer.peerPong.connect(onPong)
        peer.peerReceived.connect(onReceived)
        client.socket.active = true
        tryCompare(client.socket, "readyState", WebSocket.Open)
        verify(client.socket.send("!ping abc"))
        tryCompare(client.log.pings, "length", 1)
        // An automatic pong goes out before this message does.
        verify(client.socket.send("sync"))
        tryVerify(() => pongsAtSync >= 0)
        compare(pongs, data.pongs)
        compare(pongsAtSync, data.pongs.length)
        peer.peerPong.disconnect(onPong)
        peer.peerReceived.disconnect(onReceived)
    }

    function test_tls_data() {
        return [
            { tag: "untrusted", ca: [], ignore: false, opens: false },
            { tag: "CA file", ca: [peer.caFile], ignore: false, opens: true },
            { tag: "CA file URL", ca: ["file://" + peer.caFile], ignore: false, opens: true },
            { tag: "CA PEM text", ca: [peer.caPem], ignore: false, opens: true },
            { tag: "errors ignored", ca: [], ignore: true, opens: true },
        ]
    }

    function test_tls(data) {
        const client = socketWith(peer.tlsUrl, { caCertificates: data.ca, ignoreSslErrors: data.ignore })
        if (data.ignore)
            ignoreWarning(/QML WebSocket: options.ignoreSslErrors is set: connecting to wss:\S+ despite TLS errors/)
        client.socket.active = true
        if (!data.opens) {
            tryCompare(client.log.closed, "length", 1)
            compare(client.log.errors.length, 1)
            compare(client.log.errors[0].code, "WSQT_ERR_TLS")
            return
        }
        tryCompare(client.log, "opened", 1)
        verify(client.socket.send("over TLS"))
        tryCompare(client.log.messages, "length", 1)
        compare(client.log.messages[0].message, "over TLS")
        compare(client.log.errors, [])
    }

    function test_badCaCertificate_data() {
        return [
            { tag: "missing file", entry: "/nonexistent/ca.pem" },
            { tag: "not a certificate", entry: "-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n" },
        ]
    }

    function test_badCaCertificate(data) {
        const client = socketWith(peer.tlsUrl, { caCertificates: [data.entry] })
        ignoreWarning(/QML WebSocket: WSQT_ERR_INVALID_ARGUMENT: No CA certificate could be read from/)
        client.socket.active = true
        compare(client.log.errors.length, 1)
        compare(client.log.errors[0].code, "WSQT_ERR_INVALID_ARGUMENT")
        verify(client.log.errors[0].message.startsWith("No CA certificate could be read from"))
        compare(client.socket.active, false)
    }
}
