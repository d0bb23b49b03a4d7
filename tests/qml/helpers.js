.pragma library

// The bytes of an ArrayBuffer as an array of numbers.
function bytes(buffer) {
    return Array.from(new Uint8Array(buffer))
}

// An ArrayBuffer holding `numbers`.
function buffer(numbers) {
    return new Uint8Array(numbers).buffer
}

// The ASCII codes of `text`.
function ascii(text) {
    return Array.from(text, c => c.charCodeAt(0))
}

// Everything a WebSocket (or a server's connection) reports, in arrays.
function record(socket) {
    const log = { opened: 0, states: [], messages: [], pings: [], pongs: [], closed: [], errors: [] }
    socket.opened.connect(() => log.opened++)
    socket.readyStateChanged.connect(() => log.states.push(socket.readyState))
    socket.messageReceived.connect((message, isBinary) => log.messages.push({ message: message, isBinary: isBinary }))
    socket.pingReceived.connect(payload => log.pings.push(bytes(payload)))
    socket.pongReceived.connect(payload => log.pongs.push(bytes(payload)))
    socket.closed.connect((code, reason) => log.closed.push({ code: code, reason: reason }))
    socket.errorOccurred.connect((code, message) => log.errors.push({ code: code, message: message }))
    return log
}

// The warning a refused call gives, as a pattern for ignoreWarning():
// "<file>:<line>:<column>: QML <type>: <code>: <message>", where a server's
// connection is "<server type> (parent or ancestor of <type>)".
function warning(type, code, message) {
    const escaped = (message || "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    return new RegExp(":\\d+:\\d+: QML ([^:]* of )?" + type + "\\)?: " + code + ": " + escaped)
}
