// Node's own Socket.IO server (socket.io 4.8) instrumented by the official @socket.io/admin-ui
// 0.5.1: the reference our Admin UI namespace and our admin tools are checked against.
//
//   node tests/interop/lib/node-admin-server.mjs [--auth USER:PASSWORD] [--readonly]
//                                                [--mode production]
//
// Listens on 127.0.0.1, any free port, and prints exactly one line `PORT <n>` to stdout once
// listening. Namespace "/" has `echo` (acks its arguments back) and `join` (joins the room given);
// the admin namespace is "/admin". Exits on SIGTERM or when its stdin closes, so that a test
// runner that dies cannot leave it behind.
//
// Imported as a module, startNodeAdminServer() runs it as a child process for a test.

import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const STARTUP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;

function usage(message) {
    process.stderr.write(`node-admin-server: ${message}\n`
        + 'usage: node-admin-server.mjs [--auth USER:PASSWORD] [--readonly] '
        + '[--mode development|production]\n');
    process.exit(2);
}

function parseArgs(argv) {
    const options = { auth: null, readonly: false, mode: 'development' };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === '--auth') {
            const value = argv[++i];
            const colon = value?.indexOf(':') ?? -1;
            if (colon <= 0) {
                usage('--auth wants USER:PASSWORD');
            }
            options.auth = { username: value.slice(0, colon), password: value.slice(colon + 1) };
        } else if (arg === '--readonly') {
            options.readonly = true;
        } else if (arg === '--mode') {
            const value = argv[++i];
            if (value !== 'development' && value !== 'production') {
                usage('--mode wants development or production');
            }
            options.mode = value;
        } else {
            usage(`unknown argument "${arg}"`);
        }
    }
    return options;
}

async function main() {
    const options = parseArgs(process.argv.slice(2));
    const require = createRequire(import.meta.url);
    const { Server } = require('socket.io');
    const { instrument } = require('@socket.io/admin-ui');
    // The bcrypt implementation admin-ui itself verifies with, whatever npm hoisted.
    const bcrypt = createRequire(require.resolve('@socket.io/admin-ui'))('bcryptjs');

    const httpServer = http.createServer();
    const io = new Server(httpServer);
    io.on('connection', (socket) => {
        socket.on('echo', (...args) => {
            const ack = args.pop();
            if (typeof ack === 'function') {
                ack(...args);
            }
        });
        socket.on('join', (room) => {
            socket.join(room);
        });
    });
    instrument(io, {
        auth: options.auth
            ? { type: 'basic', username: options.auth.username,
                password: bcrypt.hashSync(options.auth.password, 10) }
            : false,
        readonly: options.readonly,
        // Explicit, or admin-ui would follow $NODE_ENV.
        mode: options.mode,
    });

    const stop = () => process.exit(0);
    process.on('SIGTERM', stop);
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.resume();

    httpServer.listen(0, '127.0.0.1', () => {
        process.stdout.write(`PORT ${httpServer.address().port}\n`);
    });
}

// Every server still running when the test process exits is killed, whatever happened.
const running = new Set();
let exitHookInstalled = false;

/**
 * Starts this script as a child process.
 *
 * @param {string[]} flags e.g. ['--auth', 'admin:secret', '--readonly']
 * @returns {Promise<{url: string, port: number, proc: import('node:child_process').ChildProcess,
 *          stderrLines: string[], close: () => Promise<void>}>}
 */
export async function startNodeAdminServer(flags = []) {
    if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', () => {
            for (const proc of running) {
                proc.kill('SIGKILL');
            }
        });
    }
    const script = fileURLToPath(import.meta.url);
    // stdin stays a pipe: its end is the server's signal to go.
    const proc = spawn(process.execPath, [script, ...flags], { stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(proc);
    const stderrLines = [];
    const stdoutLines = [];
    readline.createInterface({ input: proc.stderr }).on('line', (l) => stderrLines.push(l));
    let exitInfo = null;
    const exited = new Promise((resolve) => {
        proc.once('exit', (code, signal) => {
            exitInfo = { code, signal };
            running.delete(proc);
            resolve();
        });
    });
    let timer;
    const ready = new Promise((resolve, reject) => {
        readline.createInterface({ input: proc.stdout }).on('line', (line) => {
            stdoutLines.push(line);
            const m = /^PORT (\d+)$/.exec(line);
            if (m) {
                resolve(Number(m[1]));
            }
        });
        proc.once('error', reject);
        exited.then(() => reject(new Error(`node-admin-server exited early (${JSON.stringify(exitInfo)}): `
            + `${stdoutLines.join('\n')}\n${stderrLines.join('\n')}`)));
        timer = setTimeout(() => reject(new Error('node-admin-server did not print PORT in time: '
            + `${stderrLines.join('\n')}`)), STARTUP_TIMEOUT_MS);
    });
    const close = async () => {
        if (exitInfo) {
            return;
        }
        proc.kill('SIGTERM');
        let killTimer;
        const stopped = await Promise.race([exited.then(() => true),
            new Promise((resolve) => { killTimer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS); })]);
        clearTimeout(killTimer);
        if (!stopped) {
            proc.kill('SIGKILL');
            await exited;
        }
    };
    let port;
    try {
        port = await ready;
    } catch (err) {
        await close();
        throw err;
    } finally {
        clearTimeout(timer);
    }
    return { url: `http://127.0.0.1:${port}`, port, proc, stdoutLines, stderrLines, close };
}

// Run as a script (also through a symbolic link), not imported.
const isMain = () => {
    try {
        return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
    } catch {
        return false;
    }
};
if (process.argv[1] && isMain()) {
    main().catch((err) => {
        process.stderr.write(`node-admin-server: ${err.stack ?? err}\n`);
        process.exit(1);
    });
}
