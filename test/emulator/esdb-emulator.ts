import { randomUUID } from 'node:crypto';
import grpc from '@grpc/grpc-js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type { AppendReq, ReadReq, ReadResp as ReadRespType } from '@eventstore/db-client/generated/streams_pb.js';

/**
 * A wire-level EventStoreDB emulator for tests: a gRPC server on 127.0.0.1 speaking the
 * `Streams.Append` and `Streams.Read` parts of the protocol that `@eventstore/db-client`
 * uses (stream reads, `$all` reads, `$all` subscriptions with stream-name filters,
 * checkpoints and caught-up). It holds everything in memory and exists only so the
 * EventStoreDB adapter runs over real gRPC in tests. It is not an event store.
 *
 * Not emulated: BatchAppend (ServerFeatures answers UNIMPLEMENTED, so the client uses
 * classic Append), EventStoreDB's own per-stream id deduplication, deletes, links,
 * stream subscriptions, event-type filters, authentication and TLS.
 */

const { ReadResp, AppendResp } = streamsPb;
const { Empty, UUID, StreamIdentifier } = sharedPb;

interface StoredEvent {
  id: string;
  streamName: string;
  revision: bigint;
  /** Commit and prepare position alike: no explicit transactions here. */
  position: bigint;
  type: string;
  contentType: string;
  created: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
}

/** Positions are log offsets on a real server; any increasing numbers above 0 do here. */
const POSITION_STEP = 128n;
/** A real server's default filter window: a checkpoint every window × multiplier events considered. */
const DEFAULT_WINDOW = 32;

/**
 * What the emulator makes of one append instead of writing it as it comes, for the faults a
 * real server can show a writer: another writer's event landing first (written, then the
 * append taken as usual, so an exact expected revision no longer holds), a refusal with a
 * gRPC status, or a success that names no position.
 */
export type AppendInterception =
  | { kind: 'anotherWriterFirst'; event: { id: string; type: string; data: unknown; metadata: unknown } }
  | { kind: 'refuse'; code: grpc.status; details: string }
  | { kind: 'answerWithoutPosition' };

export interface EsdbEmulator {
  readonly port: number;
  /** `esdb://127.0.0.1:PORT?tls=false` */
  readonly connectionString: string;
  /**
   * Drops every connection, as a server restart or a network cut would: in-flight calls
   * fail with UNAVAILABLE, and the emulator listens again on the same port with the
   * same events.
   */
  dropConnections(): Promise<void>;
  /**
   * From now on, asks `intercept` about every append (by its stream's name) before taking it;
   * it answers what to do, or null to take the append as it comes. `null` ends it.
   */
  interceptAppends(intercept: ((streamName: string) => AppendInterception | null) | null): void;
  stop(): Promise<void>;
  /**
   * Every `$all` subscription call served so far, oldest first: how far each subscriber
   * has let the emulator get, and whether the call is still open.
   */
  readonly subscriptionCalls: readonly SubscriptionCall[];
}

export interface SubscriptionCall {
  /** Events handed to the call so far (written to it; the client may not have read them yet). */
  readonly eventsSent: number;
  /** False once the client cancelled the call or the connection went away. */
  readonly open: boolean;
}

/** An open subscription call, as the rest of the emulator drives it. */
interface Subscriber {
  /** The log grew: send what is new, unless waiting for the client. */
  nudge(): void;
  /** The call is over: stop writing to it. */
  stop(): void;
}

type ReadCall = grpc.ServerWritableStream<ReadReq, ReadRespType>;
type AppendCall = grpc.ServerReadableStream<AppendReq, streamsPb.AppendResp>;

function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
}

export async function startEsdbEmulator(): Promise<EsdbEmulator> {
  const log: StoredEvent[] = [];
  const streams = new Map<string, StoredEvent[]>();
  const subscribers = new Set<Subscriber>();
  const subscriptionCalls: SubscriptionCall[] = [];
  let intercept: ((streamName: string) => AppendInterception | null) | null = null;

  const recorded = (event: StoredEvent): RecordedEventMessage => {
    const message = new ReadResp.ReadEvent.RecordedEvent();
    message.setId(new UUID().setString(event.id));
    message.setStreamIdentifier(new StreamIdentifier().setStreamName(Buffer.from(event.streamName, 'utf8')));
    message.setStreamRevision(event.revision.toString());
    message.setCommitPosition(event.position.toString());
    message.setPreparePosition(event.position.toString());
    message.getMetadataMap().set('type', event.type);
    message.getMetadataMap().set('content-type', event.contentType);
    message.getMetadataMap().set('created', event.created);
    message.setData(event.data);
    message.setCustomMetadata(event.customMetadata);
    return message;
  };
  type RecordedEventMessage = InstanceType<typeof ReadResp.ReadEvent.RecordedEvent>;

  const eventResponse = (event: StoredEvent) => {
    const readEvent = new ReadResp.ReadEvent();
    readEvent.setEvent(recorded(event));
    readEvent.setCommitPosition(event.position.toString());
    return new ReadResp().setEvent(readEvent);
  };

  const append = (call: AppendCall, callback: grpc.sendUnaryData<streamsPb.AppendResp>) => {
    let options: AppendReq.Options | undefined;
    const proposed: AppendReq.ProposedMessage[] = [];
    call.on('data', (request: AppendReq) => {
      if (request.hasOptions()) options = request.getOptions();
      else if (request.hasProposedMessage()) proposed.push(request.getProposedMessage()!);
    });
    call.on('error', () => undefined);
    call.on('end', () => {
      if (!options) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'append without options' });
        return;
      }
      const streamName = Buffer.from(toBytes(options.getStreamIdentifier()!.getStreamName())).toString('utf8');
      const interception = intercept?.(streamName) ?? null;
      if (interception?.kind === 'refuse') {
        callback({ code: interception.code, details: interception.details });
        return;
      }
      if (interception?.kind === 'anotherWriterFirst') {
        const { id, type, data, metadata } = interception.event;
        const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
        const events = streams.get(streamName) ?? [];
        const foreign: StoredEvent = {
          id,
          streamName,
          revision: BigInt(events.length),
          position: BigInt(log.length + 1) * POSITION_STEP,
          type,
          contentType: 'application/json',
          created: (BigInt(Date.now()) * 10_000n).toString(),
          data: json(data),
          customMetadata: json(metadata),
        };
        log.push(foreign);
        streams.set(streamName, [...events, foreign]);
        for (const subscriber of subscribers) subscriber.nudge();
      }
      const events = streams.get(streamName) ?? [];
      const current = events.length === 0 ? null : BigInt(events.length - 1);
      const wrong =
        (options.hasNoStream() && current !== null) ||
        (options.hasStreamExists() && current === null) ||
        (options.hasRevision() && current !== BigInt(options.getRevision()));
      const response = new AppendResp();
      if (wrong) {
        const failure = new AppendResp.WrongExpectedVersion();
        if (current === null) failure.setCurrentNoStream(new Empty());
        else failure.setCurrentRevision(current.toString());
        if (options.hasRevision()) failure.setExpectedRevision(options.getRevision());
        else if (options.hasNoStream()) failure.setExpectedNoStream(new Empty());
        else if (options.hasStreamExists()) failure.setExpectedStreamExists(new Empty());
        else failure.setExpectedAny(new Empty());
        callback(null, response.setWrongExpectedVersion(failure));
        return;
      }
      const created = (BigInt(Date.now()) * 10_000n).toString();
      let revision = current ?? -1n;
      const written: StoredEvent[] = [];
      for (const message of proposed) {
        revision++;
        const metadata = message.getMetadataMap();
        written.push({
          id: message.getId()!.getString(),
          streamName,
          revision,
          position: BigInt(log.length + written.length + 1) * POSITION_STEP,
          type: metadata.get('type') ?? '',
          contentType: metadata.get('content-type') ?? 'application/octet-stream',
          created,
          data: toBytes(message.getData()),
          customMetadata: toBytes(message.getCustomMetadata()),
        });
      }
      log.push(...written);
      streams.set(streamName, [...events, ...written]);
      const success = new AppendResp.Success();
      const last = written.at(-1);
      if (last && interception?.kind === 'answerWithoutPosition') {
        success.setCurrentRevision(last.revision.toString());
        success.setNoPosition(new Empty());
      } else if (last) {
        success.setCurrentRevision(last.revision.toString());
        success.setPosition(new AppendResp.Position().setCommitPosition(last.position.toString()).setPreparePosition(last.position.toString()));
      } else {
        if (current === null) success.setNoStream(new Empty());
        else success.setCurrentRevision(current.toString());
        success.setNoPosition(new Empty());
      }
      callback(null, response.setSuccess(success));
      for (const subscriber of subscribers) subscriber.nudge();
    });
  };

  const countOf = (options: ReadReq.Options) => (options.hasCount() ? Number(options.getCount()) : Number.MAX_SAFE_INTEGER);
  const backwards = (options: ReadReq.Options) => options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;

  const readStream = (call: ReadCall, options: ReadReq.Options) => {
    const streamOptions = options.getStream()!;
    const streamName = Buffer.from(toBytes(streamOptions.getStreamIdentifier()!.getStreamName())).toString('utf8');
    const events = streams.get(streamName);
    if (!events) {
      const notFound = new ReadResp.StreamNotFound().setStreamIdentifier(streamOptions.getStreamIdentifier());
      call.write(new ReadResp().setStreamNotFound(notFound));
      call.end();
      return;
    }
    const count = countOf(options);
    let selected: StoredEvent[];
    if (backwards(options)) {
      const from = streamOptions.hasRevision() ? Number(streamOptions.getRevision()) : events.length - 1;
      selected = events.slice(0, Math.min(from, events.length - 1) + 1).reverse();
    } else {
      const from = streamOptions.hasRevision() ? Number(streamOptions.getRevision()) : streamOptions.hasEnd() ? events.length : 0;
      selected = events.slice(from);
    }
    for (const event of selected.slice(0, count)) call.write(eventResponse(event));
    call.end();
  };

  /** Inclusive start of an `$all` read: the index in the log of the first event at or past the position. */
  const allStartIndex = (all: ReadReq.Options.AllOptions, isBackwards: boolean): number => {
    if (all.hasEnd()) return isBackwards ? log.length - 1 : log.length;
    if (all.hasStart()) return isBackwards ? -1 : 0;
    const position = BigInt(all.getPosition()!.getCommitPosition());
    if (isBackwards) {
      // Backwards from a position: events before it.
      let index = log.length - 1;
      while (index >= 0 && log[index]!.position >= position) index--;
      return index;
    }
    const index = log.findIndex((event) => event.position >= position);
    return index === -1 ? log.length : index;
  };

  const matcherOf = (options: ReadReq.Options): ((event: StoredEvent) => boolean) => {
    if (!options.hasFilter()) return () => true;
    const filter = options.getFilter()!;
    const onStream = filter.hasStreamIdentifier();
    const expression = onStream ? filter.getStreamIdentifier()! : filter.getEventType()!;
    const prefixes = expression.getPrefixList();
    const regex = expression.getRegex() ? new RegExp(expression.getRegex()) : null;
    return (event) => {
      const subject = onStream ? event.streamName : event.type;
      if (prefixes.length > 0 && !prefixes.some((prefix) => subject.startsWith(prefix))) return false;
      if (regex && !regex.test(subject)) return false;
      return true;
    };
  };

  const readAll = (call: ReadCall, options: ReadReq.Options) => {
    const isBackwards = backwards(options);
    const matches = matcherOf(options);
    let remaining = countOf(options);
    let index = allStartIndex(options.getAll()!, isBackwards);
    while (remaining > 0 && index >= 0 && index < log.length) {
      const event = log[index]!;
      if (matches(event)) {
        call.write(eventResponse(event));
        remaining--;
      }
      index += isBackwards ? -1 : 1;
    }
    call.end();
  };

  /**
   * Serves a subscription the way a real server's flow control paces it: a write the call
   * cannot take yet (`write()` answers false) holds everything after it back until
   * 'drain', so a client that stops reading stops the emulator too. The subscription is a
   * cursor over the log: catch-up, `caught_up` when the cursor first reaches the end, then
   * live events as appends move the end.
   */
  const subscribeToAll = (call: ReadCall, options: ReadReq.Options) => {
    const matches = matcherOf(options);
    const filter = options.hasFilter() ? options.getFilter()! : undefined;
    const window = filter?.hasMax() ? filter.getMax() : DEFAULT_WINDOW;
    const checkpointEvery = filter ? window * Math.max(1, filter.getCheckpointintervalmultiplier()) : 0;
    let considered = 0;
    const all = options.getAll()!;
    // Subscription starting points are exclusive.
    let index = all.hasEnd() ? log.length : all.hasStart() ? 0 : allStartIndex(all, false);
    if (all.hasPosition()) {
      const position = BigInt(all.getPosition()!.getCommitPosition());
      while (index < log.length && log[index]!.position <= position) index++;
    }

    const stats = { eventsSent: 0, open: true };
    subscriptionCalls.push(stats);
    let wake: (() => void) | null = null;
    const nudge = () => {
      const resolve = wake;
      wake = null;
      resolve?.();
    };
    const changed = () => new Promise<void>((resolve) => (wake = resolve));
    const subscriber: Subscriber = {
      nudge,
      stop() {
        stats.open = false;
        subscribers.delete(subscriber);
        nudge();
      },
    };
    subscribers.add(subscriber);
    call.on('drain', nudge);
    call.on('cancelled', () => subscriber.stop());
    call.on('close', () => subscriber.stop());
    call.on('error', () => subscriber.stop());

    /** Hands one message to the call, then waits while its buffer is full. False once the call is over. */
    const send = async (message: ReadRespType): Promise<boolean> => {
      if (!stats.open || call.cancelled) return false;
      const room = call.write(message);
      if (message.hasEvent()) stats.eventsSent++;
      if (!room) while (stats.open && call.writableNeedDrain) await changed();
      return stats.open;
    };
    const consider = async (event: StoredEvent): Promise<boolean> => {
      if (matches(event) && !(await send(eventResponse(event)))) return false;
      considered++;
      if (checkpointEvery > 0 && considered % checkpointEvery === 0) {
        const checkpoint = new ReadResp.Checkpoint()
          .setCommitPosition(event.position.toString())
          .setPreparePosition(event.position.toString());
        return send(new ReadResp().setCheckpoint(checkpoint));
      }
      return true;
    };
    const serve = async () => {
      const confirmation = new ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID());
      if (!(await send(new ReadResp().setConfirmation(confirmation)))) return;
      let caughtUp = false;
      while (stats.open) {
        if (index < log.length) {
          if (!(await consider(log[index++]!))) return;
        } else if (!caughtUp) {
          caughtUp = true;
          if (!(await send(new ReadResp().setCaughtUp(new ReadResp.CaughtUp())))) return;
        } else {
          await changed();
        }
      }
    };
    // A fault here is the emulator's own bug: left unhandled, it fails the test run.
    void serve();
  };

  const read = (call: ReadCall) => {
    const options = call.request.getOptions();
    if (!options) {
      call.destroy(Object.assign(new Error('read without options'), { code: grpc.status.INVALID_ARGUMENT }));
      return;
    }
    if (options.hasSubscription()) {
      if (!options.hasAll()) {
        call.destroy(Object.assign(new Error('the emulator only subscribes to $all'), { code: grpc.status.UNIMPLEMENTED }));
        return;
      }
      subscribeToAll(call, options);
    } else if (options.hasStream()) readStream(call, options);
    else readAll(call, options);
  };

  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: 'not emulated' });

  const implementation = {
    read,
    append,
    delete: unimplemented,
    tombstone: unimplemented,
    batchAppend: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
      call.destroy(Object.assign(new Error('not emulated'), { code: grpc.status.UNIMPLEMENTED })),
  };

  const listen = async (port: number): Promise<{ server: grpc.Server; port: number }> => {
    const server = new grpc.Server();
    server.addService(streamsGrpc.StreamsService, implementation);
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, actual) =>
        error ? reject(error) : resolve(actual),
      ),
    );
    return { server, port: bound };
  };

  const first = await listen(0);
  let server = first.server;
  const port = first.port;

  return {
    get port() {
      return port;
    },
    get connectionString() {
      return `esdb://127.0.0.1:${port}?tls=false`;
    },
    get subscriptionCalls() {
      return subscriptionCalls;
    },
    interceptAppends(next) {
      intercept = next;
    },
    async dropConnections() {
      for (const subscriber of [...subscribers]) subscriber.stop();
      server.forceShutdown();
      ({ server } = await listen(port));
    },
    async stop() {
      for (const subscriber of [...subscribers]) subscriber.stop();
      server.forceShutdown();
    },
  };
}
