// The browser side of tst_browser. Each scenario opens a WebSocket of its own
// to the server under test, on a path that names what the server must do,
// and checks what comes back with nothing but the browser's WebSocket API.
// When all have run, one JSON message on the "report" path tells the test
// which passed; tst_browser.cpp holds the same constants.
'use strict';

const serverUrl = new URLSearchParams(location.search).get('ws');
const scenarioTimeoutMs = 4000;

const utf8Text = 'h\u00e9llo \u20ac \u{1D11E} \u{1F600}';
// 16 UTF-8 bytes, repeated to make exactly 1 MiB.
const largeTextUnit = 'wsqt \u00e9\u20ac\u{1F600}  ';
const largeSize = 1024 * 1024;
const orderCount = 200;
const browserCloseReason = 'bye from browser \u2713';
const serverCloseReason = 'bye from server \u2713';
const pingPayload = 'ping from wsqt';

function log(line) {
    document.getElementById('log').textContent += line + '\n';
}

function pattern(size) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; ++i)
        bytes[i] = (i * 31 + (i >> 8)) & 0xff;
    return bytes;
}

// A connection whose messages and close event are kept from the start, so
// that nothing is missed between two awaits.
class Peer {
    constructor(path, protocols) {
        this.ws = protocols ? new WebSocket(serverUrl + path, protocols) : new WebSocket(serverUrl + path);
        this.ws.binaryType = 'arraybuffer';
        this.messages = [];
        this.waiting = null;
        this.closeEvent = null;
        this.opened = new Promise((resolve, reject) => {
            this.ws.onopen = () => resolve(this);
            this.ws.onclose = (event) => {
                this.closeEvent = event;
                reject(new Error(`closed with ${event.code} before opening`));
                this.wake();
            };
        }).then(() => {
            this.ws.onclose = (event) => {
                this.closeEvent = event;
                this.wake();
            };
            return this;
        });
        this.ws.onmessage = (event) => {
            this.messages.push(event.data);
            this.wake();
        };
    }

    static open(path, protocols) {
        return new Peer(path, protocols).opened;
    }

    wake() {
        if (this.waiting) {
            const resolve = this.waiting;
            this.waiting = null;
            resolve();
        }
    }

    async receive() {
        while (this.messages.length === 0) {
            if (this.closeEvent)
                throw new Error(`closed with ${this.closeEvent.code} while a message was awaited`);
            await new Promise((resolve) => { this.waiting = resolve; });
        }
        return this.messages.shift();
    }

    async closed() {
        while (!this.closeEvent)
            await new Promise((resolve) => { this.waiting = resolve; });
        return this.closeEvent;
    }
}

function check(condition, what) {
    if (!condition)
        throw new Error(what);
}

function describe(value) {
    if (typeof value === 'string')
        return value.length > 60 ? `text of ${value.length} characters` : JSON.stringify(value);
    return `binary of ${value.byteLength} bytes`;
}

function checkText(got, expected) {
    check(typeof got === 'string', `expected text, got ${describe(got)}`);
    check(got === expected, `expected ${describe(expected)}, got ${describe(got)}`);
}

function checkBinary(got, expected) {
    check(got instanceof ArrayBuffer, `expected an ArrayBuffer, got ${describe(got)}`);
    const bytes = new Uint8Array(got);
    check(bytes.length === expected.length, `expected ${expected.length} bytes, got ${bytes.length}`);
    for (let i = 0; i < bytes.length; ++i)
        check(bytes[i] === expected[i], `byte ${i} is ${bytes[i]}, expected ${expected[i]}`);
}

function checkClose(event, code, reason) {
    check(event.code === code, `close code ${event.code}, expected ${code}`);
    check(event.reason === reason, `close reason ${JSON.stringify(event.reason)}, expected ${JSON.stringify(reason)}`);
    check(event.wasClean, 'the closing handshake was not clean');
}

async function echoOnce(path, data, checker) {
    const peer = await Peer.open(path);
    peer.ws.send(data);
    checker(await peer.receive());
    peer.ws.close(1000);
    checkClose(await peer.closed(), 1000, '');
}

const scenarios = {
    'text echo': () => echoOnce('/echo-text', 'hello, wsqt', (got) => checkText(got, 'hello, wsqt')),

    'utf-8 text echo': () => echoOnce('/echo-utf8', utf8Text, (got) => checkText(got, utf8Text)),

    'binary echo': () => {
        const bytes = pattern(256);
        return echoOnce('/echo-binary', bytes.buffer, (got) => checkBinary(got, bytes));
    },

    'large binary echo': () => {
        const bytes = pattern(largeSize);
        return echoOnce('/echo-large-binary', bytes.buffer, (got) => checkBinary(got, bytes));
    },

    'large text echo': () => {
        const text = largeTextUnit.repeat(largeSize / 16);
        return echoOnce('/echo-large-text', text, (got) => checkText(got, text));
    },

    'message order': async () => {
        const peer = await Peer.open('/echo-order');
        for (let i = 0; i < orderCount; ++i)
            peer.ws.send(`m${i}`);
        for (let i = 0; i < orderCount; ++i)
            checkText(await peer.receive(), `m${i}`);
        peer.ws.close(1000);
        checkClose(await peer.closed(), 1000, '');
    },

    'subprotocol': async () => {
        const peer = await Peer.open('/protocol', ['wsqt.v2', 'wsqt.v1']);
        check(peer.ws.protocol === 'wsqt.v1', `protocol ${JSON.stringify(peer.ws.protocol)}`);
        checkText(await peer.receive(), 'wsqt.v1');
        peer.ws.close(1000);
        await peer.closed();
        return peer.ws.protocol;
    },

    'close from the browser': async () => {
        const peer = await Peer.open('/close-coded');
        peer.ws.close(4001, browserCloseReason);
        checkClose(await peer.closed(), 4001, browserCloseReason);
    },

    'close without a code': async () => {
        const peer = await Peer.open('/close-plain');
        peer.ws.close();
        checkClose(await peer.closed(), 1005, '');
    },

    'close from the server': async () => {
        const peer = await Peer.open('/server-close');
        checkClose(await peer.closed(), 4002, serverCloseReason);
    },

    'server ping': async () => {
        const peer = await Peer.open('/ping');
        checkText(await peer.receive(), 'pong: ' + pingPayload);
        peer.ws.close(1000);
        await peer.closed();
    },

    'extensions': async () => {
        const peer = await Peer.open('/extensions');
        const serverSide = await peer.receive();
        check(peer.ws.extensions === serverSide,
              `the browser has ${JSON.stringify(peer.ws.extensions)}, the server ${JSON.stringify(serverSide)}`);
        peer.ws.close(1000);
        await peer.closed();
        return peer.ws.extensions;
    },
};

function withTimeout(promise) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result in ${scenarioTimeoutMs} ms`)), scenarioTimeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runAll() {
    const results = [];
    for (const [name, scenario] of Object.entries(scenarios)) {
        try {
            const value = await withTimeout(Promise.resolve().then(scenario));
            results.push({ name, ok: true, detail: value === undefined ? '' : String(value) });
            log(`${name}: ok`);
        } catch (error) {
            results.push({ name, ok: false, detail: String(error && error.message || error) });
            log(`${name}: FAILED ${error}`);
        }
    }
    return results;
}

async function report(results) {
    const peer = await Peer.open('/report');
    peer.ws.send(JSON.stringify({ userAgent: navigator.userAgent, results }));
    peer.ws.close(1000);
    await peer.closed();
    document.title = 'done';
}

runAll().then(report).catch((error) => log(`report failed: ${error}`));
