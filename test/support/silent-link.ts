import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** One client connection through the link, with what it holds back while silenced. */
interface Pair {
  client: Socket;
  server: Socket;
  /** Bytes seen last from the client, so a marker split over two reads is still found. */
  tail: string;
  silenced: boolean;
  toServer: Buffer[];
  toClient: Buffer[];
}

/**
 * A TCP link between an app and a real redis-server that can go silent for one connection: a
 * half-open socket, the kind of network fault in which Redis keeps answering every other
 * connection. Once `silence(marker)` is called, the first connection to send `marker` (a
 * script's SHA, say) stops carrying bytes either way; `restore()` lets everything it held
 * through, in order. No Redis command is changed or answered by the link itself.
 */
export class SilentLink {
  private readonly pairs = new Set<Pair>();
  private marker?: string;
  private constructor(private readonly server: Server) {}

  static async open(target: { host: string; port: number }): Promise<SilentLink> {
    const server = createServer();
    const link = new SilentLink(server);
    server.on('connection', (client) => link.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return link;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Connections that went silent and are holding bytes back now. */
  get silencedCount(): number {
    return [...this.pairs].filter((pair) => pair.silenced).length;
  }

  silence(marker: string): void {
    this.marker = marker;
  }

  restore(): void {
    this.marker = undefined;
    for (const pair of this.pairs) {
      if (!pair.silenced) continue;
      pair.silenced = false;
      for (const chunk of pair.toServer.splice(0)) pair.server.write(chunk);
      for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
    }
  }

  async close(): Promise<void> {
    for (const { client, server } of this.pairs) {
      client.destroy();
      server.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    const server = connect(target.port, target.host);
    const pair: Pair = { client, server, tail: '', silenced: false, toServer: [], toClient: [] };
    this.pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      const seen = pair.tail + chunk.toString('latin1');
      pair.tail = seen.slice(-64);
      if (this.marker && !pair.silenced && seen.includes(this.marker)) pair.silenced = true;
      if (pair.silenced) pair.toServer.push(chunk);
      else server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (pair.silenced) pair.toClient.push(chunk);
      else client.write(chunk);
    });
    const end = () => {
      client.destroy();
      server.destroy();
      this.pairs.delete(pair);
    };
    client.on('close', end).on('error', end);
    server.on('close', end).on('error', end);
  }
}
