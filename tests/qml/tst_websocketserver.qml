// WebSocketServer with WebSocket clients in the same test: listening, the
// connections it hands out, its clients model, broadcast and errors.
import QtQml
import QtQuick
import QtTest
import WsQt
import WsQtTestPeer
import "helpers.js" as Helpers

TestCase {
    id: testCase
    name: "WebSocketServer"

    CppPeer { id: peer }

    Component {
        id: serverComponent
        WebSocketServer { host: "127.0.0.1" }
    }

    Component {
        id: socketComponent
        WebSocket { }
    }

    // The clients model's rows as their roles give them.
    Component {
        id: rowsComponent
        Instantiator {
            delegate: QtObject {
                required property var socket
                required property string peerAddress
                required property int peerPort
                required property string protocol
                required property int readyState
            }
        }
    }

    // Its property becomes null when the object it holds is deleted.
    Component {
        id: holderComponent
        QtObject { property QtObject target }
    }

    // A listening server, with the connections it made and their requests.
    function listening(properties) {
        const server = createTemporaryObject(serverComponent, testCase,
                                             Object.assign({ active: true }, properties || {}))
        const log = { connections: [], requests: [], messages: [], errors: [] }
        server.newConnection.connect((socket, request) => {
            log.connections.push(socket)
            log.requests.push(request)
        })
        server.messageReceived.connect((socket, message, isBinary) =>
                                       log.messages.push({ socket: socket, message: message, isBinary: isBinary }))
        server.errorOccurred.connect((code, message) => log.errors.push({ code: code, message: message }))
        tryCompare(server, "listening", true)
        return { server: server, log: log }
    }

    // An open client of `server`, and what it reports.
    function client(server, properties) {
        const socket = createTemporaryObject(socketComponent, testCase,
                                             Object.assign({ url: server.url }, properties || {}))
        const log = Helpers.record(socket)
        socket.active = true
        tryCompare(socket, "readyState", WebSocket.Open)
        return { socket: socket, log: log }
    }

    function test_defaults() {
        const server = createTemporaryObject(serverComponent, testCase, { host: "" })
        compare(server.port, 0)
        compare(server.host, "")
        compare(server.path, "")
        compare(server.active, false)
        compare(server.listening, false)
        compare(server.url.toString(), "")
        compare(server.maxPayload, 100 * 1024 * 1024)
        compare(server.perMessageDeflate, false)
        compare(server.clients.count, 0)
        compare(server.broadcast("nobody"), 0)
    }

    function test_listen() {
        const server = createTemporaryObject(serverComponent, testCase)
        const changes = []
        server.listeningChanged.connect(() => changes.push(server.listening))
        server.active = true
        tryCompare(server, "listening", true)
        verify(server.port > 0)
        compare(server.url.toString(), "ws://127.0.0.1:" + server.port + "/")
        server.active = false
        compare(server.listening, false)
        compare(server.url.toString(), "")
        compare(changes, [true, false])
        // Again, on the port it had.
        const port = server.port
        server.active = true
        tryCompare(server, "listening", true)
        compare(server.port, port)
    }

    function test_host_data() {
        return [
            { tag: "any", host: "" },
            { tag: "localhost", host: "localhost" },
            { tag: "IPv4 loopback", host: "127.0.0.1" },
        ]
    }

    function test_host(data) {
        const s = listening({ host: data.host })
        compare(s.server.host, data.host)
        // Reachable on the loopback interface.
        compare(s.server.url.toString(), "ws://127.0.0.1:" + s.server.port + "/")
        const c = client(s.server)
        compare(c.socket.peerAddress, "127.0.0.1")
    }

    function test_newConnection() {
        const s = listening()
        const url = "ws://127.0.0.1:" + s.server.port + "/chat?room=1"
        const c = client(s.server, { url: url, protocols: ["p1", "p2"] })
        tryCompare(s.log.connections, "length", 1)
        const request = s.log.requests[0]
        compare(request.method, "GET")
        compare(request.target, "/chat?room=1")
        compare(request.path, "/chat")
        compare(request.headers["upgrade"], "websocket")
        compare(request.headers["sec-websocket-protocol"], "p1,p2")
        compare(request.headers["host"], "127.0.0.1:" + s.server.port)
        const connection = s.log.connections[0]
        compare(connection.serverSide, true)
        compare(connection.readyState, WebSocket.Open)
        compare(connection.active, true)
        compare(connection.protocol, "p1")
        compare(connection.peerAddress, "127.0.0.1")
        verify(connection.peerPort > 0)
        compare(connection.url.toString(), "")
        compare(c.socket.protocol, "p1")
    }

    function test_requestHeadersFromOptions() {
        const s = listening()
        const socket = createTemporaryObject(socketComponent, testCase, { url: s.server.url })
        socket.options.headers = { "X-Test": "value" }
        socket.options.origin = "https://example.org"
        socket.active = true
        tryCompare(s.log.requests, "length", 1)
        compare(s.log.requests[0].headers["x-test"], "value")
        compare(s.log.requests[0].headers["origin"], "https://example.org")
    }

    function test_messages_data() {
        return [
            { tag: "text", value: "hello", expected: "hello", binary: false },
            { tag: "binary", value: Helpers.buffer([1, 2, 3]), expected: [1, 2, 3], binary: true },
        ]
    }

    function test_messages(data) {
        const s = listening()
        const c = client(s.server)
        tryCompare(s.log.connections, "length", 1)
        const connection = s.log.connections[0]
        const connectionLog = Helpers.record(connection)

        verify(c.socket.send(data.value))
        tryCompare(s.log.messages, "length", 1)
        compare(s.log.messages[0].socket, connection)
        compare(s.log.messages[0].isBinary, data.binary)
        const received = s.log.messages[0].message
        compare(data.binary ? Helpers.bytes(received) : received, data.expected)
        // The connection's own signal said the same.
        compare(connectionLog.messages.length, 1)
        compare(connectionLog.messages[0].isBinary, data.binary)

        // And back.
        verify(connection.send(data.value))
        tryCompare(c.log.messages, "length", 1)
        const answer = c.log.messages[0].message
        compare(data.binary ? Helpers.bytes(answer) : answer, data.expected)
    }

    function test_clientsModel() {
        const s = listening()
        const rows = createTemporaryObject(rowsComponent, testCase, { model: s.server.clients })
        let countChanges = 0
        s.server.clients.countChanged.connect(() => countChanges++)
        const first = client(s.server, { protocols: ["one"] })
        const second = client(s.server, { protocols: ["two"] })
        tryCompare(s.server.clients, "count", 2)
        compare(countChanges, 2)
        compare(rows.count, 2)
        compare(s.server.clients.get(0), s.log.connections[0])
        compare(s.server.clients.get(1), s.log.connections[1])
        compare(s.server.clients.get(2), null)
        compare(rows.objectAt(0).socket, s.log.connections[0])
        compare(rows.objectAt(0).protocol, "one")
        compare(rows.objectAt(1).protocol, "two")
        compare(rows.objectAt(0).peerAddress, "127.0.0.1")
        compare(rows.objectAt(0).peerPort, s.log.connections[0].peerPort)
        compare(rows.objectAt(0).readyState, WebSocket.Open)

        // A connection leaves the model when it has closed.
        first.socket.active = false
        tryCompare(s.server.clients, "count", 1)
        compare(rows.count, 1)
        compare(rows.objectAt(0).protocol, "two")
        second.socket.close(1000)
        tryCompare(s.server.clients, "count", 0)
        compare(countChanges, 4)
    }

    function test_connectionObjectGoesAway() {
        const s = listening()
        const c = client(s.server)
        tryCompare(s.log.connections, "length", 1)
        const connection = s.log.connections[0]
        const connectionLog = Helpers.record(connection)
        const holder = createTemporaryObject(holderComponent, testCase, { target: connection })
        let activeWhenClosed
        connection.closed.connect(() => activeWhenClosed = connection.active)
        c.socket.close(4003, "later")
        tryCompare(connectionLog.closed, "length", 1)
        compare(connectionLog.closed[0], { code: 4003, reason: "later" })
        compare(activeWhenClosed, false)
        // Deleted once closed, like the library's server-side sockets.
        tryCompare(holder, "target", null)
    }

    function test_broadcast() {
        const s = listening()
        const clients = [client(s.server), client(s.server), client(s.server)]
        tryCompare(s.server.clients, "count", 3)
        compare(s.server.broadcast("to all"), 3)
        compare(s.server.broadcast(Helpers.buffer([9, 8])), 3)
        for (const c of clients) {
            tryCompare(c.log.messages, "length", 2)
            compare(c.log.messages[0], { message: "to all", isBinary: false })
            compare(Helpers.bytes(c.log.messages[1].message), [9, 8])
        }
        // Only open connections get it.
        s.log.connections[0].close(1000)
        compare(s.server.broadcast("fewer"), 2)
        tryCompare(clients[1].log.messages, "length", 3)
        tryCompare(clients[2].log.messages, "length", 3)
        tryCompare(clients[0].log.closed, "length", 1)
        compare(clients[0].log.messages.length, 2)
    }

    function test_broadcastRefusesOtherTypes() {
        const s = listening()
        client(s.server)
        tryCompare(s.server.clients, "count", 1)
        ignoreWarning(Helpers.warning("WebSocketServer", "WSQT_ERR_INVALID_ARGUMENT",
                                      "broadcast() takes a string, an ArrayBuffer, a typed array or a DataView"))
        compare(s.server.broadcast({ not: "data" }), 0)
        compare(s.log.errors, [{ code: "WSQT_ERR_INVALID_ARGUMENT",
                                 message: "broadcast() takes a string, an ArrayBuffer, a typed array or a DataView" }])
    }

    function test_connectionMethods() {
        const s = listening()
        const c = client(s.server)
        tryCompare(s.log.connections, "length", 1)
        const connection = s.log.connections[0]
        const connectionLog = Helpers.record(connection)

        verify(connection.ping("srv"))
        tryCompare(c.log.pings, "length", 1)
        compare(c.log.pings[0], Helpers.ascii("srv"))
        tryCompare(connectionLog.pongs, "length", 1)
        compare(connectionLog.pongs[0], Helpers.ascii("srv"))

        verify(c.socket.ping("cli"))
        tryCompare(connectionLog.pings, "length", 1)
        compare(connectionLog.pings[0], Helpers.ascii("cli"))

        verify(connection.pong("unasked"))
        tryCompare(c.log.pongs, "length", 2)
        compare(c.log.pongs[1], Helpers.ascii("unasked"))

        ignoreWarning(Helpers.warning("WebSocket", "WSQT_ERR_INVALID_ARGUMENT",
                                      "First argument must be a valid error code number"))
        compare(connection.close(1005), false)
        compare(connectionLog.errors.length, 1)

        verify(connection.close(4002, "kick"))
        tryCompare(c.log.closed, "length", 1)
        compare(c.log.closed[0], { code: 4002, reason: "kick" })
    }

    function test_connectionInactive() {
        const s = listening()
        const c = client(s.server)
        tryCompare(s.log.connections, "length", 1)
        const connection = s.log.connections[0]
        connection.active = false
        compare(connection.readyState, WebSocket.Closing)
        // It cannot be opened again.
        ignoreWarning(/QML ([^:]* of )?WebSocket\)?: A server's connection cannot be opened again/)
        connection.active = true
        compare(connection.active, false)
        tryCompare(c.log.closed, "length", 1)
        compare(c.log.closed[0].code, 1000)
        tryCompare(s.server.clients, "count", 0)
    }

    function test_connectionTerminate() {
        const s = listening()
        const c = client(s.server)
        tryCompare(s.log.connections, "length", 1)
        s.log.connections[0].terminate()
        tryCompare(c.log.closed, "length", 1)
        compare(c.log.closed[0].code, 1006)
    }

    function test_connectionPause() {
        const s = listening()
        const c = client(s.server)
        tryCompare(s.log.connections, "length", 1)
        const connection = s.log.connections[0]
        connection.pause()
        compare(connection.paused, true)
        verify(c.socket.send("held"))
        wait(200)
        compare(s.log.messages, [])
        connection.resume()
        compare(connection.paused, false)
        tryCompare(s.log.messages, "length", 1)
        compare(s.log.messages[0].message, "held")
    }

    function test_connectionBinaryType() {
        const s = listening()
        const c = client(s.server)
        tryCompare(s.log.connections, "length", 1)
        const connection = s.log.connections[0]
        connection.binaryType = WebSocket.Fragments
        verify(c.socket.send(Helpers.buffer([1, 2])))
        tryCompare(s.log.messages, "length", 1)
        // One frame, so one fragment.
        compare(s.log.messages[0].message.map(Helpers.bytes), [[1, 2]])
    }

    function test_closeTimeout() {
        const s = listening()
        const c = client(s.server)
        c.socket.options.closeTimeout = 300
        // Options apply when the socket opens.
        c.socket.active = false
        tryCompare(c.log.closed, "length", 1)
        c.socket.active = true
        tryCompare(c.log, "opened", 2)
        tryCompare(s.log.connections, "length", 2)
        // The server does not read, so it never answers the close frame.
        s.log.connections[1].pause()
        c.socket.close(1000)
        tryCompare(c.log.closed, "length", 2)
        compare(c.log.closed[1].code, 1006)
    }

    function test_deactivateClosesConnections() {
        const s = listening()
        const clients = [client(s.server), client(s.server)]
        tryCompare(s.server.clients, "count", 2)
        s.server.active = false
        compare(s.server.listening, false)
        for (const c of clients) {
            tryCompare(c.log.closed, "length", 1)
            compare(c.log.closed[0], { code: 1001, reason: "" })
        }
        tryCompare(s.server.clients, "count", 0)
        // Nothing listens any more.
        const late = createTemporaryObject(socketComponent, testCase, { url: "ws://127.0.0.1:" + s.server.port + "/" })
        const lateLog = Helpers.record(late)
        late.active = true
        tryCompare(lateLog.closed, "length", 1)
        compare(lateLog.errors[0].code, "WSQT_ERR_CONNECTION")
    }

    function test_destroyedWithConnections() {
        const server = serverComponent.createObject(testCase, { active: true })
        tryCompare(server, "listening", true)
        const c = client(server)
        server.destroy()
        tryCompare(c.log.closed, "length", 1)
        compare(c.log.closed[0], { code: 1001, reason: "" })
    }

    function test_path() {
        const s = listening({ path: "/ws" })
        compare(s.server.url.toString(), "ws://127.0.0.1:" + s.server.port + "/ws")
        const wrong = createTemporaryObject(socketComponent, testCase,
                                            { url: "ws://127.0.0.1:" + s.server.port + "/other" })
        const wrongLog = Helpers.record(wrong)
        wrong.active = true
        tryCompare(wrongLog.closed, "length", 1)
        compare(wrongLog.errors, [{ code: "WSQT_ERR_UNEXPECTED_RESPONSE", message: "Unexpected server response: 400" }])
        // The query does not count.
        const right = client(s.server, { url: s.server.url + "?q=1" })
        compare(right.socket.readyState, WebSocket.Open)
    }

    function test_settingsChangeKeepsConnections() {
        const s = listening()
        const c = client(s.server)
        tryCompare(s.server.clients, "count", 1)
        const port = s.server.port
        s.server.path = "/moved"
        tryCompare(s.server, "listening", true)
        compare(s.server.port, port)
        compare(s.server.url.toString(), "ws://127.0.0.1:" + port + "/moved")
        compare(c.socket.readyState, WebSocket.Open)
        compare(s.server.clients.count, 1)
        // The old connection still works, and new ones use the new path.
        verify(c.socket.send("still here"))
        tryCompare(s.log.messages, "length", 1)
        const moved = client(s.server)
        compare(moved.socket.readyState, WebSocket.Open)
        tryCompare(s.server.clients, "count", 2)
    }

    function test_maxPayload() {
        const s = listening({ maxPayload: 10 })
        compare(s.server.maxPayload, 10)
        const c = client(s.server)
        tryCompare(s.log.connections, "length", 1)
        const connectionLog = Helpers.record(s.log.connections[0])
        verify(c.socket.send("0123456789"))
        tryCompare(s.log.messages, "length", 1)
        verify(c.socket.send("0123456789a"))
        tryCompare(c.log.closed, "length", 1)
        compare(c.log.closed[0].code, 1009)
        compare(connectionLog.errors, [{ code: "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
                                         message: "Max payload size exceeded" }])
    }

    function test_perMessageDeflate_data() {
        return [
            { tag: "on", on: true },
            { tag: "off", on: false },
        ]
    }

    function test_perMessageDeflate(data) {
        if (data.on && !peer.deflateAvailable)
            skip("built without zlib")
        const s = listening({ perMessageDeflate: data.on })
        const c = client(s.server)
        tryCompare(s.log.connections, "length", 1)
        if (data.on) {
            verify(c.socket.extensions.startsWith("permessage-deflate"), c.socket.extensions)
            compare(s.log.connections[0].extensions, c.socket.extensions)
        } else {
            compare(c.socket.extensions, "")
            compare(s.log.connections[0].extensions, "")
        }
        const text = "compressible ".repeat(1000)
        verify(c.socket.send(text))
        tryCompare(s.log.messages, "length", 1)
        compare(s.log.messages[0].message, text)
    }

    function test_portInUse() {
        const first = listening()
        const second = createTemporaryObject(serverComponent, testCase, { port: first.server.port })
        const errors = []
        second.errorOccurred.connect((code, message) => errors.push({ code: code, message: message }))
        ignoreWarning(/QML WebSocketServer: WSQT_ERR_SERVER: listen on 127.0.0.1:\d+ failed/)
        second.active = true
        tryCompare(errors, "length", 1)
        compare(errors[0].code, "WSQT_ERR_SERVER")
        compare(second.active, false)
        compare(second.listening, false)
    }

    function test_invalidHost() {
        const server = createTemporaryObject(serverComponent, testCase, { host: "not an address" })
        const errors = []
        server.errorOccurred.connect((code, message) => errors.push({ code: code, message: message }))
        ignoreWarning(Helpers.warning("WebSocketServer", "WSQT_ERR_INVALID_ARGUMENT",
                                      "Invalid host address \"not an address\""))
        server.active = true
        compare(errors, [{ code: "WSQT_ERR_INVALID_ARGUMENT", message: "Invalid host address \"not an address\"" }])
        compare(server.active, false)
    }

    function test_propertyChanges() {
        const server = createTemporaryObject(serverComponent, testCase)
        const changed = []
        for (const name of ["port", "host", "path", "maxPayload", "perMessageDeflate", "active"])
            server[name + "Changed"].connect(() => changed.push(name))
        server.port = 1234
        server.host = "::1"
        server.path = "/p"
        server.maxPayload = 5
        server.perMessageDeflate = true
        server.perMessageDeflate = true
        compare(changed, ["port", "host", "path", "maxPayload", "perMessageDeflate"])
        compare(server.listening, false)
    }
}
