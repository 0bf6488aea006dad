// dockerode's HTTP requests travel over `docker system dial-stdio` exec channels of the one SSH
// connection, as docker-modem's ssh agent does, with a real cap on how many are open at once.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { HostError } from './host.js';

/** What the agent needs of the SSH connection: opening an exec channel. */
export interface ChannelOpener {
  exec(command: string, cb: (err: Error | undefined, channel: ClientChannel) => void): unknown;
}

// sshd's MaxSessions (default 10) caps the channels of one connection, and host commands, SFTP
// and forwards need some too: stay well under it.
export const MAX_DOCKER_CHANNELS = 4;

/** Give an exec channel the socket methods node's http client calls. */
function asSocket(channel: ClientChannel): Duplex {
  const s = channel as unknown as Duplex & Record<string, unknown>;
  for (const m of ['setKeepAlive', 'setNoDelay', 'ref', 'unref'])
    if (typeof s[m] !== 'function') s[m] = () => s;
  if (typeof s.setTimeout !== 'function') s.setTimeout = () => s;
  return s;
}

export class DialStdioAgent extends http.Agent {
  /** Open API channels: destroyed with an error when the connection dies (see SshHost). */
  readonly channels = new Set<ClientChannel>();
  /** The most channels that were open or opening at once (for tests and debugging). */
  peak = 0;
  // node's agent counts a socket only once createConnection has handed it over, so with an
  // asynchronous createConnection N requests issued together would open N channels and sshd
  // would refuse the ones past MaxSessions. These slots count channels opening or open.
  private slots = 0;
  private readonly waiting: Array<(err?: Error) => void> = [];
  private closed = false;

  constructor(
    private readonly conn: ChannelOpener,
    private readonly label: string,
    private readonly max = MAX_DOCKER_CHANNELS,
  ) {
    super({ keepAlive: true, maxSockets: max, maxFreeSockets: max });
  }

  // A request waiting for a slot cannot be given an idle kept-alive channel (node hands those only
  // to requests queued inside the agent), so while anyone waits a channel that comes free is
  // closed instead of kept: that frees its slot.
  override keepSocketAlive(socket: Duplex): boolean {
    return this.waiting.length === 0 && (super.keepSocketAlive(socket as never) as unknown) !== false;
  }

  override destroy(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(new HostError(`the SSH connection to ${this.label} closed`));
    super.destroy();
  }

  private acquire(cb: (err?: Error) => void): void {
    if (this.closed) return cb(new HostError(`the SSH connection to ${this.label} closed`));
    if (this.slots >= this.max) return void this.waiting.push(cb);
    this.slots++;
    this.peak = Math.max(this.peak, this.slots);
    cb();
  }

  /** A freed slot passes straight to the next waiter, if any. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.slots--;
  }

  override createConnection(_options: unknown, cb: (err: Error | null, socket?: Duplex) => void): undefined {
    this.acquire((waitErr) => {
      if (waitErr) return cb(waitErr);
      this.conn.exec('docker system dial-stdio', (err, channel) => {
        if (err) {
          this.release();
          return cb(new HostError(`cannot open a Docker API channel on ${this.label}: ${err.message}`));
        }
        this.channels.add(channel);
        let released = false;
        channel.on('close', () => {
          this.channels.delete(channel);
          if (!released) {
            released = true;
            this.release();
          }
        });
        let stderr = '';
        channel.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
        channel.on('exit', (code: number | null) => {
          if (code && code !== 0) {
            const why = stderr.trim() || `exit code ${code}`;
            channel.emit(
              'error',
              new HostError(`'docker system dial-stdio' failed on ${this.label}: ${why}`),
            );
            channel.close();
          }
        });
        cb(null, asSocket(channel));
      });
    });
    return undefined;
  }
}
