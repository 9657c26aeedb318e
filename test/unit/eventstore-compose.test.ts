/**
 * `eventstore.compose.yml` read as YAML and checked the way `docker compose` would use it: no
 * Docker engine or compose plugin runs on the machines this suite runs on, so the file is
 * checked for what a broken cluster or a misdirected ledger would show first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import t from 'tap';
import YAML from 'yaml';
// The client's own reading of a connection string: what it accepts is what the ledger gets.
import { parseConnectionString } from '@eventstore/db-client/dist/Client/parseConnectionString.js';
import { loadConfig } from '../../src/config.js';

const root = new URL('../../', import.meta.url);
const source = readFileSync(new URL('eventstore.compose.yml', root), 'utf8');

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  configs?: Array<{ source: string; target: string }>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { content?: string }>;
}

// Compose reads YAML 1.1 merge keys (`<<: *anchor`), which the file uses to share settings.
const document = YAML.parseDocument(source, { merge: true });
const compose = document.toJS() as ComposeFile;
const services = Object.entries(compose.services);
const nodes = services.filter(([, service]) => service.image?.includes('/kurrentdb:'));
const ledgers = services.filter(([, service]) => service.environment?.LEDGER_STORE !== undefined);

/** The environment compose would pass, with `${NAME}` and `${NAME:?message}` filled from `values`. */
function interpolated(environment: Record<string, string>, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      String(value).replace(/\$\{(\w+)(?::\?[^}]*)?\}/g, (_match, name: string) => {
        if (!(name in values)) throw new Error(`${key} needs ${name}, which the test does not know`);
        return values[name]!;
      }),
    ]),
  );
}

/** `host:port` pairs of a seed list or of an `esdb://` connection string's hosts. */
const endpoints = (list: string) => list.split(',').map((endpoint) => endpoint.trim()).sort();

/** "127.0.0.1:2111:2113" → { hostIp, hostPort, containerPort } */
function published(port: string) {
  const match = /^(\d+\.\d+\.\d+\.\d+):(\d+):(\d+)$/.exec(port);
  if (!match) return null;
  return { hostIp: match[1]!, hostPort: Number(match[2]), containerPort: Number(match[3]) };
}

t.test('the file is plain YAML that compose can read', async (t) => {
  t.same(document.errors, [], 'no syntax errors');
  t.same(document.warnings, [], 'no warnings');
  t.ok(services.length > 0);
});

t.test('three KurrentDB nodes form one cluster', async (t) => {
  t.equal(nodes.length, 3, 'three nodes: a majority of two survives losing one');
  const images = new Set(nodes.map(([, node]) => node.image));
  t.equal(images.size, 1, 'every node runs the same server version');
  t.match([...images][0], /^docker\.kurrent\.io\/kurrent-lts\/kurrentdb:26\.0\.\d+$/, 'a pinned patch of the current LTS line (26.0)');

  const names = nodes.map(([name]) => name);
  for (const [name, node] of nodes) {
    const env = node.environment!;
    t.equal(env.KURRENTDB_CLUSTER_SIZE, String(nodes.length), `${name}: the cluster size is the number of nodes`);
    t.equal(env.KURRENTDB_DISCOVER_VIA_DNS, 'false', `${name}: discovery through the seeds, not DNS`);
    t.equal(env.KURRENTDB_NODE_HOST_ADVERTISE_AS, name, `${name}: advertises the name others resolve on the network`);
    t.equal(env.KURRENTDB_REPLICATION_HOST_ADVERTISE_AS, name, `${name}: replication advertised the same way`);
    const others = nodes.filter(([other]) => other !== name);
    t.same(
      endpoints(env.KURRENTDB_GOSSIP_SEED!),
      others.map(([other, node]) => `${other}:${node.environment!.KURRENTDB_NODE_PORT}`).sort(),
      `${name}: its gossip seeds are exactly the other nodes, at their node ports`,
    );
    t.ok(node.volumes?.some((volume) => volume.endsWith(':/var/lib/kurrentdb')), `${name}: its data on a volume`);
  }
  const dataVolumes = nodes.map(([, node]) => node.volumes!.find((volume) => volume.endsWith(':/var/lib/kurrentdb'))!.split(':')[0]!);
  t.equal(new Set(dataVolumes).size, 3, 'each node has a data volume of its own (shared nothing)');
  for (const volume of dataVolumes) t.ok(compose.volumes && volume in compose.volumes, `${volume} is declared`);
  t.same(names, ['kurrentdb-1', 'kurrentdb-2', 'kurrentdb-3']);
});

t.test('insecure mode is on, the same on every node, and marked as for local use only', async (t) => {
  for (const [name, node] of nodes) t.equal(node.environment!.KURRENTDB_INSECURE, 'true', name);
  t.match(source, /INSECURE MODE, FOR LOCAL USE ONLY/, 'the warning heads the file');
  t.match(source, /KURRENTDB_CERTIFICATE_FILE/, 'the secure settings are described');
  t.match(source, /KURRENTDB_TRUSTED_ROOT_CERTIFICATES_PATH/);
  t.match(source, /tls=true&tlsCAFile=/, 'with the connection string a secure cluster needs');
});

t.test('every published port is on the loopback address, and none is published twice', async (t) => {
  const hostPorts: number[] = [];
  for (const [name, service] of services) {
    for (const port of service.ports ?? []) {
      const parsed = published(port);
      t.ok(parsed, `${name}: ${port} names its host address`);
      t.equal(parsed?.hostIp, '127.0.0.1', `${name}: ${port} is reachable from this machine only`);
      if (parsed) hostPorts.push(parsed.hostPort);
    }
  }
  t.equal(new Set(hostPorts).size, hostPorts.length, `host ports ${hostPorts.join(', ')} are distinct`);
  for (const [name, node] of nodes) {
    t.same(node.ports!.map((port) => published(port)!.containerPort), [Number(node.environment!.KURRENTDB_NODE_PORT)], `${name}: the node port`);
  }
});

t.test('two ledger instances point at the cluster, each with a read model of its own', async (t) => {
  t.ok(ledgers.length >= 2, 'at least two instances');
  const secret = 'a'.repeat(40);
  const files: string[] = [];
  for (const [name, ledger] of ledgers) {
    const env = interpolated(ledger.environment!, { LEDGER_JWT_SECRET: secret });
    // The ledger's own configuration check: what `ledger serve` would refuse, this refuses.
    const config = loadConfig(env);
    t.equal(config.LEDGER_STORE, 'eventstoredb', `${name}: events in the cluster`);
    t.equal(config.LEDGER_HOST, '0.0.0.0', `${name}: listens on the container's network`);
    t.equal(config.LEDGER_JWT_SECRET, secret, `${name}: the secret comes from the one the user sets`);
    t.match(ledger.environment!.LEDGER_JWT_SECRET, /^\$\{LEDGER_JWT_SECRET:\?.+\}$/, `${name}: compose refuses to start without it`);

    const connection = parseConnectionString(config.EVENTSTORE_CONNECTION_STRING!);
    t.same(
      connection.hosts.map(({ address, port }) => `${address}:${port}`).sort(),
      nodes.map(([node, service]) => `${node}:${service.environment!.KURRENTDB_NODE_PORT}`).sort(),
      `${name}: every node is a seed`,
    );
    t.equal(connection.dnsDiscover, false, `${name}: the seeds are the nodes themselves`);
    t.equal(connection.tls, false, `${name}: plain gRPC, as the insecure cluster speaks`);
    t.equal(connection.nodePreference, 'leader', `${name}: writes go to the leader`);

    for (const [node] of nodes) t.same(ledger.depends_on?.[node], { condition: 'service_healthy' }, `${name}: starts once ${node} is healthy`);
    t.same(ledger.build, '.', `${name}: built from the ledger's Dockerfile`);

    const dataDirectory = posix.dirname(config.LEDGER_DB);
    const mount = ledger.volumes?.find((volume) => volume.endsWith(`:${dataDirectory}`));
    t.ok(mount, `${name}: ${dataDirectory} is on a volume`);
    const volume = mount!.split(':')[0]!;
    t.ok(compose.volumes && volume in compose.volumes, `${name}: ${volume} is a named volume`);
    files.push(volume);
    t.equal(ledger.ports?.length, 1, `${name}: reachable on its own, too`);
    t.equal(published(ledger.ports![0]!)!.containerPort, config.LEDGER_PORT, `${name}: at its LEDGER_PORT`);
  }
  t.equal(new Set(files).size, ledgers.length, 'no two instances share a read-model file');
  t.ok(existsSync(new URL('Dockerfile', root)), 'the Dockerfile the build names is there');
});

t.test('the load balancer spreads requests over the ledger instances and asks them if they are ready', async (t) => {
  const balancers = services.filter(([, service]) => service.image?.startsWith('caddy:'));
  t.equal(balancers.length, 1);
  const [name, balancer] = balancers[0]!;
  const config = balancer.configs?.[0];
  const caddyfile = config && compose.configs?.[config.source]?.content;
  t.ok(caddyfile, `${name}: its configuration is in the file`);
  t.same(balancer.command?.slice(-4), ['--config', config!.target, '--adapter', 'caddyfile'], `${name}: runs the configuration it is given`);
  const upstreams = /reverse_proxy\s+([^{]+)\{/.exec(caddyfile!)?.[1]!.trim().split(/\s+/).sort();
  const ledgerPorts = ledgers.map(([ledger, service]) => `${ledger}:${service.environment!.LEDGER_PORT}`).sort();
  t.same(upstreams, ledgerPorts, 'every ledger instance, and nothing else, is an upstream');
  t.match(caddyfile, /health_uri \/readyz/, 'an instance that is not ready gets no requests');
  const listen = /^:(\d+) \{/m.exec(caddyfile!)?.[1];
  t.same(balancer.ports?.map((port) => published(port)?.containerPort), [Number(listen)], 'it publishes the port it listens on');
  for (const [ledger] of ledgers) t.same(balancer.depends_on?.[ledger], { condition: 'service_healthy' });
});
