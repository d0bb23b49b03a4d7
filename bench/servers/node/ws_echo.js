'use strict';

// The ws echo server of the benchmarks: every message goes back to its sender
// as it came. bufferutil must load (ws would silently fall back to
// JavaScript masking without it).
//
//   node ws_echo.js [--port N] [--deflate]      (NODE_PATH: the node_modules holding ws)

const assert = require('assert');
const bufferUtil = require('bufferutil');
const { WebSocketServer } = require('ws');

assert.strictEqual(bufferUtil.mask.toString().includes('[native code]'), true,
                   'bufferutil is not the native addon');

let port = 0;
let deflate = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--port' && i + 1 < args.length) {
        port = Number(args[++i]);
    } else if (args[i] === '--deflate') {
        deflate = true;
    } else {
        console.error('Usage: node ws_echo.js [--port N] [--deflate]');
        process.exit(2);
    }
}

const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: deflate });
server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    // A peer's protocol error (a message past maxPayload, say) ends its
    // connection only; unhandled, it would end the process.
    socket.on('error', () => {});
});
server.on('listening', () => console.log(`listening ${server.address().port}`));
