'use strict';

// A ws peer for the TLS and UNIX domain socket tests. Its only argument is a
// JSON configuration:
//
//   role        "server" or "client"
//   server:     tls: {cert, key, ca, requestCert} (file paths) to serve https,
//               socketPath to listen on a UNIX domain socket instead of
//               127.0.0.1 (a free port)
//   client:     url, tls: {ca, cert, key} (file paths), message (text)
//
// It writes one JSON object a line on stdout:
//   {event: "ready", port}                      the server listens
//   {event: "connection", url, host, secure, authorized, clientCertificate}
//   {event: "open"}                             the client is connected
//   {event: "message", data}                    a text message arrived
//   {event: "close", code, reason}
//   {event: "error", message, code}
//
// The server echoes every message. The client sends `message`, waits for the
// echo and closes with 1000. Closing stdin ends the process.

const fs = require('fs');
const http = require('http');
const https = require('https');
const WebSocket = require('ws');

const config = JSON.parse(process.argv[2]);

function report(event) {
    process.stdout.write(JSON.stringify(event) + '\n');
}

function tlsFiles(tls) {
    const options = {};
    for (const name of ['cert', 'key', 'ca']) {
        if (tls[name])
            options[name] = fs.readFileSync(tls[name]);
    }
    return options;
}

function runServer() {
    let server;
    if (config.tls) {
        const options = tlsFiles(config.tls);
        if (config.tls.requestCert) {
            options.requestCert = true;
            options.rejectUnauthorized = true;
        }
        server = https.createServer(options);
    } else {
        server = http.createServer();
    }
    const wss = new WebSocket.WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
        const peer = req.socket.getPeerCertificate ? req.socket.getPeerCertificate() : null;
        report({
            event: 'connection',
            url: req.url,
            host: req.headers.host,
            secure: !!req.socket.encrypted,
            authorized: !!req.socket.authorized,
            clientCertificate: peer && peer.subject ? peer.subject.CN : ''
        });
        ws.on('message', (data, isBinary) => {
            if (!isBinary)
                report({ event: 'message', data: data.toString() });
            ws.send(data, { binary: isBinary });
        });
        ws.on('close', (code, reason) => report({ event: 'close', code, reason: reason.toString() }));
        ws.on('error', (error) => report({ event: 'error', message: error.message, code: error.code || '' }));
    });
    server.on('tlsClientError', (error) => report({ event: 'error', message: error.message, code: error.code || '' }));
    const ready = () => report({ event: 'ready', port: config.socketPath ? 0 : server.address().port });
    if (config.socketPath)
        server.listen(config.socketPath, ready);
    else
        server.listen(0, '127.0.0.1', ready);
}

function runClient() {
    const options = config.tls ? tlsFiles(config.tls) : {};
    const ws = new WebSocket(config.url, options);
    ws.on('open', () => {
        report({ event: 'open' });
        ws.send(config.message);
    });
    ws.on('message', (data, isBinary) => {
        if (!isBinary)
            report({ event: 'message', data: data.toString() });
        ws.close(1000, 'done');
    });
    ws.on('close', (code, reason) => {
        report({ event: 'close', code, reason: reason.toString() });
        process.exit(0);
    });
    ws.on('error', (error) => report({ event: 'error', message: error.message, code: error.code || '' }));
}

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

if (config.role === 'server')
    runServer();
else
    runClient();
