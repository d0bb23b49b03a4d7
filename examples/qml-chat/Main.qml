// A chat room over WebSockets. The window that hosts runs a WebSocketServer:
// it keeps the history, sends it to each newcomer and relays every message
// to everyone. The other windows join with a WebSocket. Messages are JSON
// objects {name, text}.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import WsQt
import QmlChat

ApplicationWindow {
    id: window
    width: 560
    height: 420
    visible: true
    title: qsTr("WsQt chat")

    property bool greeted: false
    property bool leaving: false

    ListModel {
        id: messages
        onCountChanged: {
            if (CommandLine.quitAfter > 0 && messages.count >= CommandLine.quitAfter && !window.leaving)
                window.finish()
        }
    }

    WebSocketServer {
        id: server
        active: hostBox.checked
        port: Number(portField.text)
        onListeningChanged: {
            if (!listening)
                return
            CommandLine.print("listening on port " + port)
            window.greet()
        }
        onNewConnection: socket => {
            for (let i = 0; i < messages.count; ++i)
                socket.send(JSON.stringify(messages.get(i)))
        }
        onMessageReceived: (socket, message) => {
            const entry = window.parse(message)
            if (entry)
                window.post(entry)
        }
        onErrorOccurred: (code, message) => status.text = message
    }

    WebSocket {
        id: socket
        onOpened: {
            CommandLine.print("joined " + url)
            window.greet()
        }
        onMessageReceived: message => {
            const entry = window.parse(message)
            if (entry)
                messages.append(entry)
        }
        onErrorOccurred: (code, message) => status.text = message
        onClosed: {
            if (window.leaving)
                Qt.quit()
        }
    }

    // Host side: everyone gets it, this window included.
    function post(entry) {
        server.broadcast(JSON.stringify(entry))
        messages.append(entry)
    }

    function say(text) {
        const entry = { name: nameField.text || qsTr("guest"), text: text }
        if (server.listening)
            post(entry)
        else if (socket.readyState === WebSocket.Open)
            socket.send(JSON.stringify(entry))
    }

    // Only text with both fields is a chat message.
    function parse(message) {
        if (typeof message !== "string")
            return null
        try {
            const entry = JSON.parse(message)
            if (typeof entry.name === "string" && typeof entry.text === "string")
                return { name: entry.name, text: entry.text }
        } catch (error) {
        }
        return null
    }

    // What the command line asked to say, once connected.
    function greet() {
        if (greeted)
            return
        greeted = true
        for (const text of CommandLine.messages)
            say(text)
    }

    // Reports (transcript, screenshot), leaves the room and quits.
    function finish() {
        leaving = true
        const transcript = []
        for (let i = 0; i < messages.count; ++i)
            transcript.push(messages.get(i).name + ": " + messages.get(i).text)
        CommandLine.finish(window, transcript)
        if (server.active) {
            // The connections close with 1001 (going away).
            hostBox.checked = false
            if (server.clients.count === 0)
                Qt.quit()
        } else if (socket.active) {
            socket.active = false
        } else {
            Qt.quit()
        }
    }

    Connections {
        target: server.clients
        function onCountChanged() {
            if (window.leaving && server.clients.count === 0)
                Qt.quit()
        }
    }

    Component.onCompleted: {
        nameField.text = CommandLine.name
        if (CommandLine.hostPort >= 0) {
            portField.text = CommandLine.hostPort
            hostBox.checked = true
        } else if (CommandLine.joinUrl) {
            urlField.text = CommandLine.joinUrl
            socket.url = urlField.text
            socket.active = true
        }
    }

    header: ToolBar {
        GridLayout {
            anchors.fill: parent
            anchors.margins: 4
            columns: 4

            Label { text: qsTr("Name") }
            TextField {
                id: nameField
                Layout.fillWidth: true
                Layout.columnSpan: 3
                placeholderText: qsTr("guest")
            }

            CheckBox {
                id: hostBox
                text: qsTr("Host on port")
                enabled: !socket.active
            }
            TextField {
                id: portField
                text: "9000"
                enabled: !hostBox.checked
                validator: IntValidator { bottom: 0; top: 65535 }
                Layout.preferredWidth: 80
            }
            Label {
                Layout.columnSpan: 2
                Layout.fillWidth: true
                text: server.listening ? qsTr("%1 — %n joined", "", server.clients.count).arg(server.url) : ""
            }

            Label { text: qsTr("Join") }
            TextField {
                id: urlField
                Layout.fillWidth: true
                Layout.columnSpan: 2
                text: "ws://127.0.0.1:9000/"
                enabled: !socket.active && !hostBox.checked
            }
            Button {
                text: socket.active ? qsTr("Leave") : qsTr("Join")
                enabled: !hostBox.checked
                onClicked: {
                    socket.url = urlField.text
                    socket.active = !socket.active
                }
            }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 8

        ListView {
            id: list
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: messages
            delegate: Label {
                required property var model
                width: ListView.view.width
                wrapMode: Text.Wrap
                textFormat: Text.PlainText
                text: model.name + ": " + model.text
            }
            onCountChanged: positionViewAtEnd()
        }

        RowLayout {
            TextField {
                id: input
                Layout.fillWidth: true
                placeholderText: qsTr("Message")
                enabled: server.listening || socket.readyState === WebSocket.Open
                onAccepted: send.clicked()
            }
            Button {
                id: send
                text: qsTr("Send")
                enabled: input.enabled && input.text.length > 0
                onClicked: {
                    window.say(input.text)
                    input.clear()
                }
            }
        }

        Label {
            id: status
            Layout.fillWidth: true
            elide: Text.ElideRight
        }
    }
}
