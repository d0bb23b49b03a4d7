'use strict';

// The ws side of the client benchmark: N connections each keep K messages in
// flight against an echo server; prints messages per second like the C++
// clients (bench/clients).
//
//   node ws_client.js --url ws://127.0.0.1:PORT/ [--connections N] [--inflight K]
//                     [--size BYTES] [--warmup S] [--duration S] [--label TEXT]

const assert = require('assert');
const bufferUtil = require('bufferutil');
const WebSocket = require('ws');

assert.strictEqual(bufferUtil.mask.toString().includes('[native code]'), true,
                   'bufferutil is not the native addon');

const options = { url: '', connections: 1, inflight: 1, size: 64, warmup: 1, duration: 5, label: '-' };
const args = process.argv.slice(2);
for (let i = 0; i + 1 < args.length; i += 2) {
    const name = args[i].replace(/^--/, '');
    if (!(name in options)) {
        console.error(`ws_client.js: unknown option ${args[i]}`);
        process.exit(2);
    }
    options[name] = name === 'url' || name === 'label' ? args[i + 1] : Number(args[i + 1]);
}

const payload = Buffer.alloc(options.size, 0x5a);
let open = 0;
let measuring = false;
let messages = 0;
const sockets = [];

function finish(startedAt, cpuAtStart) {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const cpu = process.cpuUsage(cpuAtStart);
    const rate = messages / seconds;
    console.log(`result label=${options.label} client=ws connections=${options.connections} ` +
                `inflight=${options.inflight} size=${options.size} messages=${messages} ` +
                `seconds=${seconds.toFixed(3)} msgs_per_s=${rate.toFixed(1)} ` +
                `mb_per_s=${(rate * options.size / 1e6).toFixed(2)} ` +
                `own_cpu_pct=${((cpu.user + cpu.system) / 1e4 / seconds).toFixed(1)}`);
    for (const socket of sockets)
        socket.terminate();
}

function start() {
    for (const socket of sockets) {
        for (let i = 0; i < options.inflight; ++i)
            socket.send(payload, { binary: true });
    }
    setTimeout(() => {
        measuring = true;
        messages = 0;
        const startedAt = process.hrtime.bigint();
        const cpuAtStart = process.cpuUsage();
        setTimeout(() => finish(startedAt, cpuAtStart), options.duration * 1000);
    }, options.warmup * 1000);
}

for (let i = 0; i < options.connections; ++i) {
    const socket = new WebSocket(options.url, { perMessageDeflate: false });
    sockets.push(socket);
    socket.on('open', () => {
        if (++open === options.connections)
            start();
    });
    socket.on('message', (data) => {
        if (data.length !== options.size) {
            console.error(`ws_client.js: an echo of ${data.length} bytes instead of ${options.size}`);
            process.exit(1);
        }
        if (measuring)
            ++messages;
        socket.send(payload, { binary: true });
    });
    socket.on('error', (error) => {
        console.error(`ws_client.js: ${error.message}`);
        process.exit(1);
    });
}
