'use strict';

// A WebSocket peer backed by the `ws` package, driven by the interop tests.
//
//   node peer_ws.js '<config JSON>'
//
// The configuration, the commands read from stdin and the events written to
// stdout (one JSON object a line) are described in ../README.md. A server
// prints "ready PORT" once it listens on 127.0.0.1.

const crypto = require('crypto');
const readline = require('readline');
const WebSocket = require('ws');

const config = JSON.parse(process.argv[2] || '{}');
const INLINE_LIMIT = 4096;
const TEXT_PATTERN = 'wsqt interop: the quick brown fox jumps over the lazy dog 0123456789\n';

let socket = null;

function emit(event) {
    process.stdout.write(JSON.stringify(event) + '\n');
}

function sha256(data) {
    return crypto.createHash('sha256').update(data).digest('hex');
}

// The same deterministic contents as the C++ and Python sides: "random" is
// SHA-256 in counter mode (incompressible), "text" repeats TEXT_PATTERN.
function generate(kind, size, seed) {
    if (kind === 'text')
        return Buffer.alloc(size, TEXT_PATTERN);
    const out = Buffer.alloc(size);
    const counter = Buffer.alloc(8);
    counter.writeUInt32BE(seed >>> 0, 0);
    for (let offset = 0, block = 0; offset < size; offset += 32, ++block) {
        counter.writeUInt32BE(block, 4);
        crypto.createHash('sha256').update(counter).digest().copy(out, offset, 0, Math.min(32, size - offset));
    }
    return out;
}

function payload(command) {
    if (command.generate)
        return generate(command.generate.kind, command.generate.size, command.generate.seed);
    return Buffer.from(command.data || '', 'base64');
}

function describeMessage(data, isBinary) {
    const event = { event: 'message', binary: isBinary, size: data.length, sha256: sha256(data) };
    if (data.length <= INLINE_LIMIT)
        event.data = data.toString('base64');
    return event;
}

// Reports the header of every frame the peer receives, read from the raw
// socket next to ws's own parser: the payload is skipped, not decoded.
function tapFrames(rawSocket) {
    let pending = Buffer.alloc(0);
    let skip = 0;
    rawSocket.on('data', (chunk) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        for (;;) {
            if (skip > 0) {
                const n = Math.min(skip, pending.length);
                pending = pending.subarray(n);
                skip -= n;
                if (skip > 0)
                    return;
            }
            if (pending.length < 2)
                return;
            const b0 = pending[0];
            const b1 = pending[1];
            let length = b1 & 0x7f;
            let offset = 2;
            if (length === 126) {
                if (pending.length < 4)
                    return;
                length = pending.readUInt16BE(2);
                offset = 4;
            } else if (length === 127) {
                if (pending.length < 10)
                    return;
                length = Number(pending.readBigUInt64BE(2));
                offset = 10;
            }
            if (b1 & 0x80)
                offset += 4;
            if (pending.length < offset)
                return;
            emit({ event: 'frame', fin: !!(b0 & 0x80), rsv1: !!(b0 & 0x40), opcode: b0 & 0x0f, length });
            pending = pending.subarray(offset);
            skip = length;
        }
    });
}

function attach(ws, extensionsHeader) {
    socket = ws;
    emit({ event: 'open', protocol: ws.protocol, extensions: ws.extensions, extensionsHeader });
    ws.on('message', (data, isBinary) => emit(describeMessage(data, isBinary)));
    ws.on('ping', (data) => emit({ event: 'ping', data: data.toString('base64') }));
    ws.on('pong', (data) => emit({ event: 'pong', data: data.toString('base64') }));
}

function watchEnd(ws) {
    ws.on('error', (error) => emit({ event: 'error', code: error.code || '', message: error.message }));
    ws.on('close', (code, reason) => emit({ event: 'close', code, reason: reason.toString('base64') }));
}

function deflateOption(value) {
    return value === undefined || value === null ? false : value;
}

function startServer() {
    const options = {
        host: '127.0.0.1',
        port: 0,
        perMessageDeflate: deflateOption(config.deflate),
    };
    if (config.maxPayload !== undefined)
        options.maxPayload = config.maxPayload;
    if (config.selectProtocol !== undefined)
        options.handleProtocols = (protocols) => (protocols.has(config.selectProtocol) ? config.selectProtocol : false);
    const server = new WebSocket.Server(options);
    let extensionsHeader = '';
    server.on('headers', (headers) => {
        const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
        extensionsHeader = line ? line.slice(line.indexOf(':') + 1).trim() : '';
    });
    server.on('listening', () => process.stdout.write(`ready ${server.address().port}\n`));
    server.on('connection', (ws, request) => {
        if (socket) {
            ws.terminate();
            return;
        }
        if (config.tapFrames)
            tapFrames(request.socket);
        watchEnd(ws);
        attach(ws, extensionsHeader);
    });
    return server;
}

function startClient() {
    const options = { perMessageDeflate: deflateOption(config.deflate) };
    if (config.maxPayload !== undefined)
        options.maxPayload = config.maxPayload;
    const ws = new WebSocket(config.url, config.protocols || [], options);
    let extensionsHeader = '';
    ws.on('upgrade', (response) => {
        extensionsHeader = response.headers['sec-websocket-extensions'] || '';
        if (config.tapFrames)
            tapFrames(response.socket);
    });
    ws.on('open', () => attach(ws, extensionsHeader));
    watchEnd(ws);
}

function run(command) {
    const done = (error) => emit({ event: 'done', id: command.id, error: error ? error.message : '' });
    if (!socket) {
        done(new Error('no connection'));
        return;
    }
    const sendOptions = { binary: !!command.binary, compress: command.compress !== false };
    switch (command.cmd) {
    case 'send': {
        const data = payload(command);
        const repeat = command.repeat || 1;
        for (let i = 1; i <= repeat; ++i)
            socket.send(data, sendOptions, i === repeat ? done : undefined);
        break;
    }
    case 'sendFragments': {
        const fragments = command.fragments.map((f) => Buffer.from(f, 'base64'));
        fragments.forEach((fragment, i) => {
            const last = i === fragments.length - 1;
            socket.send(fragment, { ...sendOptions, fin: last }, last ? done : undefined);
        });
        break;
    }
    case 'burst':
        // Queued without waiting: the receiving end may be paused.
        for (let i = 0; i < command.count; ++i)
            socket.send(Buffer.from(`${i}:`.padEnd(command.size, '.')), sendOptions);
        done();
        break;
    case 'ping':
        socket.ping(payload(command), undefined, done);
        break;
    case 'close':
        if (command.code === undefined || command.code === null)
            socket.close();
        else
            socket.close(command.code, Buffer.from(command.reason || '', 'base64'));
        done();
        break;
    case 'terminate':
        socket.terminate();
        done();
        break;
    default:
        done(new Error(`unknown command ${command.cmd}`));
    }
}

const server = config.role === 'server' ? startServer() : null;
if (!server)
    startClient();

const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
    if (line.trim())
        run(JSON.parse(line));
});
// The test closes stdin when it is done with the peer.
input.on('close', () => {
    if (socket)
        socket.terminate();
    if (server)
        server.close();
    process.stdout.write('', () => process.exit(0));
});
