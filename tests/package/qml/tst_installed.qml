import QtQuick
import QtTest
import WsQt

// The WsQt module as an application finds it in an install prefix: a server
// and a client from it talk to each other.
TestCase {
    name: "InstalledModule"

    WebSocketServer {
        id: server
        port: 0
        host: "127.0.0.1"
        active: true
        onMessageReceived: (socket, message) => socket.send("echo: " + message)
    }

    WebSocket {
        id: client
        property string last
        onOpened: send("hello")
        onMessageReceived: (message) => last = message
    }

    function test_roundTrip() {
        tryCompare(server, "listening", true)
        client.url = "ws://127.0.0.1:" + server.port
        client.active = true
        tryCompare(client, "last", "echo: hello")
    }
}
