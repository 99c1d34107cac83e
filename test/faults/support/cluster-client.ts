import { Cluster, type ClusterOptions } from 'ioredis';

/** `CLUSTER_NODES` of a worker child: `host:port,host:port`, the nodes it starts from. */
export function parseClusterNodes(raw: string): { host: string; port: number }[] {
  return raw.split(',').map((entry) => {
    const [host = '', port = ''] = entry.trim().split(':');
    if (!host || !/^\d+$/.test(port))
      throw new Error(`CLUSTER_NODES entry "${entry}" is not host:port`);
    return { host, port: Number(port) };
  });
}

export function formatClusterNodes(nodes: readonly { host: string; port: number }[]): string {
  return nodes.map(({ host, port }) => `${host}:${port}`).join(',');
}

/**
 * A Cluster client as docs/failover.md advises for a queue: ioredis follows `MOVED`, and
 * retries `CLUSTERDOWN`, `TRYAGAIN` and a closed node connection after a slot map refresh, a
 * few times; what outlasts those retries reaches the library as a connection failure, which
 * its call policy retries within `redis.connectionTimeout`.
 */
export function queueClusterClient(
  nodes: readonly { host: string; port: number }[],
  connectTimeout: number,
  options: ClusterOptions = {},
): Cluster {
  return new Cluster([...nodes], {
    // A node's own connection times out as the library's calls do.
    redisOptions: { connectTimeout },
    // ioredis's defaults, spelled out: at 0 it would hand these errors over at once.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    ...options,
  });
}
