import fastifyUnderPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RESTART_RETRY_MS } from './live-stream.js';
import { ProblemError } from './problem-error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * false: the route answers under pressure and while the server shuts down (the liveness
     * probe, the metrics), when every other answers 503.
     */
    loadShedding?: false;
  }
}

export interface LoadSheddingOptions {
  /** The event-loop delay past which requests are shed; 0: not checked. */
  maxEventLoopDelayMs: number;
  /** The used heap past which requests are shed; 0: not checked. */
  maxHeapUsedBytes: number;
  /** How often both are sampled; 1 s by default. */
  sampleIntervalMs?: number | undefined;
}

/** What a shed request is told: come back in a few seconds, when a sample may say otherwise. */
const PRESSURE_RETRY_AFTER_S = 5;

const shed = (request: FastifyRequest) => request.routeOptions.config.loadShedding !== false;

/**
 * Load shedding: 503 `unavailable` with `Retry-After`, before any other work is done for the
 * request, when the process is overloaded (event-loop delay or used heap past their bounds,
 * sampled by @fastify/under-pressure) and while the server shuts down. fastify's own answer
 * while closing (`return503OnClosing`) is plain JSON and is turned off in `buildApp`; this
 * one is a problem like every other error.
 */
export const loadShedding = fp<LoadSheddingOptions>(
  async (app: FastifyInstance, { maxEventLoopDelayMs, maxHeapUsedBytes, sampleIntervalMs }) => {
    let closing = false;
    // The first preClose hook: set before the watches are told to go, so a watch that comes
    // straight back meets the 503 too.
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onRequest', async (request) => {
      if (closing && shed(request)) {
        throw new ProblemError('unavailable', 'the ledger is shutting down; retry (here after a restart, or at another instance)', {}, { 'retry-after': String(RESTART_RETRY_MS / 1000) });
      }
    });
    // Only when a bound is set: the plugin samples the event loop from the start, whether or not it checks.
    if (maxEventLoopDelayMs === 0 && maxHeapUsedBytes === 0) return;
    await app.register(fastifyUnderPressure, {
      maxEventLoopDelay: maxEventLoopDelayMs,
      maxHeapUsedBytes,
      sampleInterval: sampleIntervalMs,
      // A promise: what it rejects with goes to the error handler; what it resolves lets the request through.
      pressureHandler: async (request, _reply, type, value) => {
        if (!shed(request)) return;
        request.log.warn({ pressure: type, value }, 'request shed under pressure');
        throw new ProblemError('unavailable', `the ledger is overloaded (${type}); retry later`, {}, { 'retry-after': String(PRESSURE_RETRY_AFTER_S) });
      },
    });
  },
  { name: 'load-shedding', fastify: '5.x', dependencies: ['problem-details'] },
);
